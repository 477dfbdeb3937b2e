import type { ProviderConfig } from "../config/schema.js";
import { type RevocationOutcome, revokeRefreshToken } from "../flows/revocation.js";
import { fingerprint } from "../log.js";
import { toOAuth2Error } from "../oidc/protocol-errors.js";
import { clientForToken, type StoredToken } from "../store/token-store.js";
import { type EngineContext, writeToken } from "./context.js";
import { configurationFor } from "./discovery.js";

/**
 * The resource server rejected `accessToken` (401): mark it expired so the next ensure
 * refreshes, keeping the refresh token. A token that already changed is left alone.
 */
export async function invalidate(
  ctx: EngineContext,
  provider: ProviderConfig,
  accessToken: string,
): Promise<boolean> {
  return ctx.store.withLock(provider.id, async () => {
    const read = await ctx.store.read(provider);
    if (read.kind !== "ok" || read.token.accessToken !== accessToken) return false;
    await writeToken(ctx, provider, { ...read.token, expiresAt: 0 });
    ctx.logger.emit("oauth2_token_invalidated", {
      provider: provider.id,
      fingerprint: fingerprint(accessToken),
    });
    return true;
  });
}

/** What a logout did. */
export interface LogoutResult {
  /** A token file was removed. */
  removed: boolean;
  /** The refresh token was revoked at the IdP. */
  revoked: boolean;
  /** How the revocation ended; absent when none was due (no token, no refresh token, or
   * `revoke: false`). */
  revocation?: RevocationOutcome | undefined;
}

/**
 * Removes the cached token and revokes its refresh token when the IdP can. The local token is
 * removed whatever the IdP answers; `revocation` says whether the session ended there too.
 */
export async function logout(
  ctx: EngineContext,
  provider: ProviderConfig,
  options: { revoke?: boolean } = {},
): Promise<LogoutResult> {
  return ctx.store.withLock(provider.id, async () => {
    const read = await ctx.store.read(provider);
    let revocation: RevocationOutcome | undefined;
    if (options.revoke !== false && read.kind === "ok" && read.token.refreshToken) {
      revocation = await revoke(ctx, provider, read.token);
    }
    const removed = await ctx.store.remove(provider.id);
    const revoked = revocation?.status === "revoked";
    ctx.logger.emit("oauth2_logout", {
      provider: provider.id,
      removed,
      revoked,
      revokedWith: revocation?.status === "revoked" ? revocation.via : undefined,
      refreshTokenStillActive: revocation !== undefined && !revoked,
    });
    return { removed, revoked, revocation };
  });
}

async function revoke(
  ctx: EngineContext,
  provider: ProviderConfig,
  token: StoredToken,
): Promise<RevocationOutcome> {
  const tokenClient = clientForToken(provider, token) ?? provider.loginClient;
  let outcome: RevocationOutcome;
  try {
    const config = await configurationFor(ctx, provider, tokenClient);
    outcome = await revokeRefreshToken(provider, config, tokenClient, token, {
      now: ctx.now(),
      fetch: ctx.fetch,
    });
  } catch (err) {
    outcome = {
      status: "failed",
      refused: false,
      error: toOAuth2Error(err, "revocation", provider.id),
    };
  }
  if (outcome.status === "failed") {
    ctx.logger.emit("oauth2_revocation_failed", {
      ...outcome.error.toLogFields(),
      refused: outcome.refused,
    });
  }
  return outcome;
}
