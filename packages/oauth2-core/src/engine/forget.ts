import * as client from "openid-client";
import type { ProviderConfig } from "../config/schema.js";
import { fingerprint } from "../log.js";
import { toOAuth2Error } from "../oidc/protocol-errors.js";
import { clientForToken } from "../store/token-store.js";
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
    await writeToken(ctx, { ...read.token, expiresAt: 0 });
    ctx.logger.emit("oauth2_token_invalidated", {
      provider: provider.id,
      fingerprint: fingerprint(accessToken),
    });
    return true;
  });
}

/** Removes the cached token and revokes its refresh token when the IdP can. */
export async function logout(
  ctx: EngineContext,
  provider: ProviderConfig,
  options: { revoke?: boolean } = {},
): Promise<{ removed: boolean; revoked: boolean }> {
  return ctx.store.withLock(provider.id, async () => {
    const read = await ctx.store.read(provider);
    let revoked = false;
    const token = read.kind === "absent" ? undefined : read.token;
    if (options.revoke !== false && read.kind === "ok" && token?.refreshToken) {
      try {
        const tokenClient = clientForToken(provider, read.token) ?? provider.loginClient;
        const config = await configurationFor(ctx, provider, tokenClient);
        if (config.serverMetadata().revocation_endpoint) {
          await client.tokenRevocation(config, token.refreshToken, {
            token_type_hint: "refresh_token",
          });
          revoked = true;
        }
      } catch (err) {
        ctx.logger.emit(
          "oauth2_revocation_failed",
          toOAuth2Error(err, "revocation", provider.id).toLogFields(),
        );
      }
    }
    const removed = await ctx.store.remove(provider.id);
    ctx.logger.emit("oauth2_logout", { provider: provider.id, removed, revoked });
    return { removed, revoked };
  });
}
