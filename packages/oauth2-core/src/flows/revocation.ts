import * as client from "openid-client";
import type { ProviderConfig, ResolvedClient } from "../config/schema.js";
import { OAuth2Error } from "../errors.js";
import type { FetchLike } from "../fetch.js";
import { clientOf, toOAuth2Error } from "../oidc/protocol-errors.js";
import type { StoredToken } from "../store/token-store.js";
import { outboundFetch } from "../transport/outbound.js";

/** How a logout's revocation of the refresh token ended. */
export type RevocationOutcome =
  | {
      status: "revoked";
      /** `access_token`: the IdP refused the public client itself and accepted the access
       * token as the revocation request's credentials. */
      via: "client" | "access_token";
    }
  /** The IdP has no revocation endpoint: the refresh token stays valid until it expires. */
  | { status: "no_endpoint" }
  | {
      status: "failed";
      /** The IdP refused this client (401/403, invalid_client): retrying will not help. */
      refused: boolean;
      error: OAuth2Error;
    };

const REFUSING_ERRORS = new Set(["invalid_client", "unauthorized_client", "access_denied"]);

function isRefusal(error: OAuth2Error): boolean {
  if (error.code === "client_refused") return true;
  if (error.idp && REFUSING_ERRORS.has(error.idp.error)) return true;
  const status = error.answer?.status ?? error.idp?.status;
  return status === 401 || status === 403;
}

/**
 * Glewlwyd authenticates revocation requests with client credentials or with a bearer access
 * token (carrying a scope its admin configured), never with a bare public `client_id`. Sending
 * the still-valid access token to the IdP that issued it costs nothing and ends the session where
 * that works.
 */
export async function revokeWithAccessToken(
  provider: ProviderConfig,
  endpoint: string,
  who: ResolvedClient,
  token: StoredToken,
  fetchImpl: FetchLike,
): Promise<boolean> {
  try {
    const response = await fetchImpl(endpoint, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token.accessToken}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        token: token.refreshToken as string,
        token_type_hint: "refresh_token",
        client_id: who.clientId,
      }).toString(),
      signal: AbortSignal.timeout(provider.httpTimeoutMs),
    });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Revokes the cached refresh token (RFC 7009) with the client that obtained it. A public client
 * the IdP refuses tries once more with its access token while that is still valid. A refusal
 * that remains is said plainly: the refresh token stays active at the IdP until it expires.
 */
export async function revokeRefreshToken(
  provider: ProviderConfig,
  config: client.Configuration,
  who: ResolvedClient,
  token: StoredToken,
  options: { now: number; fetch: FetchLike | undefined },
): Promise<RevocationOutcome> {
  const endpoint = config.serverMetadata().revocation_endpoint;
  if (!endpoint) return { status: "no_endpoint" };
  try {
    await client.tokenRevocation(config, token.refreshToken as string, {
      token_type_hint: "refresh_token",
    });
    return { status: "revoked", via: "client" };
  } catch (err) {
    const error = toOAuth2Error(err, "revocation", provider.id, clientOf(config));
    if (!isRefusal(error)) return { status: "failed", refused: false, error };
    const accessTokenValid = token.expiresAt === undefined || token.expiresAt > options.now;
    const publicClient = who.type === "public";
    if (publicClient && accessTokenValid) {
      const fetchImpl = outboundFetch({ tls: provider.tls, base: options.fetch });
      if (await revokeWithAccessToken(provider, endpoint, who, token, fetchImpl)) {
        return { status: "revoked", via: "access_token" };
      }
    }
    const whom = publicClient ? `the public client "${who.clientId}"` : `client "${who.clientId}"`;
    const tried = publicClient && accessTokenValid ? ", also with the access token," : "";
    return {
      status: "failed",
      refused: true,
      error: new OAuth2Error({
        code: error.code,
        providerId: provider.id,
        message: `the IdP refused${tried} to revoke the refresh token of ${whom}: the refresh token stays active at the IdP until it expires.`,
        fix: publicClient
          ? "to end the session now, sign out at the IdP or have its admin end it; to let logout revoke, ask the admin to allow revocation by this client (some IdPs, Glewlwyd among them, accept only client credentials or an access token carrying a scope they name)"
          : `to end the session now, sign out at the IdP or have its admin end it; ${error.fix}`,
        idp: error.idp,
        answer: error.answer,
        cause: error,
      }),
    };
  }
}
