import type { TokenEndpointResponse } from "openid-client";
import type { AuthFlow, ProviderConfig, ResolvedClient } from "../config/schema.js";
import { bindingFor, type StoredToken } from "../store/token-store.js";

/** Decodes a JWT's payload without verifying it — only to read `exp`/`sub` for scheduling. */
export function peekJwtClaims(token: string | undefined): Record<string, unknown> | undefined {
  const payload = token?.split(".")[1];
  if (!payload || token?.split(".").length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    return typeof claims === "object" && claims !== null ? claims : undefined;
  } catch {
    return undefined;
  }
}

export interface ToStoredTokenInput {
  provider: ProviderConfig;
  client: ResolvedClient;
  flow: AuthFlow;
  response: TokenEndpointResponse;
  now: number;
  /** The token being refreshed: its refresh token is kept when the IdP returns none. */
  previous?: StoredToken | undefined;
}

/**
 * A token endpoint response as the cache stores it. `expiresAt` comes from `expires_in`, else
 * from a JWT access token's `exp`; with neither, the token is used until the provider says 401.
 */
export function toStoredToken({
  provider,
  client,
  flow,
  response,
  now,
  previous,
}: ToStoredTokenInput): StoredToken {
  const accessClaims = peekJwtClaims(response.access_token);
  const idClaims = peekJwtClaims(response.id_token);
  let expiresAt: number | undefined;
  if (typeof response.expires_in === "number") expiresAt = now + response.expires_in * 1000;
  else if (typeof accessClaims?.exp === "number") expiresAt = accessClaims.exp * 1000;
  const subject = idClaims?.sub ?? accessClaims?.sub ?? previous?.subject;
  return {
    version: 1,
    providerId: provider.id,
    binding: bindingFor(provider, client),
    flow: previous?.flow ?? flow,
    accessToken: response.access_token,
    tokenType: response.token_type ?? "Bearer",
    expiresAt,
    refreshToken: response.refresh_token ?? previous?.refreshToken,
    idToken: response.id_token ?? previous?.idToken,
    scope: response.scope ?? previous?.scope,
    subject: typeof subject === "string" ? subject : undefined,
    obtainedAt: now,
  };
}

/** True when the token is usable for at least `skewMs` more. */
export function isFresh(token: StoredToken, now: number, skewMs: number): boolean {
  return token.expiresAt === undefined || token.expiresAt - skewMs > now;
}
