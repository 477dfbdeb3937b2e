import { type HeadlessFlow, isInteractiveFlow, type ProviderConfig } from "../config/schema.js";
import { loginCommand, loginHint, OAuth2Error } from "../errors.js";
import { clientCredentials } from "../flows/client-credentials.js";
import { refresh } from "../flows/refresh.js";
import { tokenExchange } from "../flows/token-exchange.js";
import { isFresh, toStoredToken } from "../flows/token-response.js";
import { fingerprint } from "../log.js";
import { toOAuth2Error } from "../oidc/protocol-errors.js";
import { clientForToken, type StoredToken } from "../store/token-store.js";
import {
  type EngineContext,
  type EnsureResult,
  type LoginRequiredReason,
  okResult,
  writeToken,
} from "./context.js";
import { configurationFor } from "./discovery.js";

const headlessFlowOf = (p: ProviderConfig): HeadlessFlow | undefined =>
  isInteractiveFlow(p.authFlow) ? p.headlessFlow : p.authFlow;

/**
 * Under the provider's cross-process lock: use a token another process just refreshed, else
 * refresh, else run the headless flow, else say a login is required.
 */
export async function renewUnderLock(
  ctx: EngineContext,
  provider: ProviderConfig,
): Promise<EnsureResult> {
  return ctx.store.withLock(provider.id, async () => {
    const read = await ctx.store.read(provider);
    const now = ctx.now();
    if (read.kind === "ok" && isFresh(read.token, now, provider.tokenExpirySkewMs)) {
      ctx.logger.emit("oauth2_token_refreshed_by_other_process", { provider: provider.id });
      return okResult(read.token, "cache");
    }
    let reason: LoginRequiredReason =
      read.kind === "absent" ? "no_token" : read.kind === "foreign" ? "foreign_token" : "expired";
    if (read.kind === "ok" && read.token.refreshToken) {
      const refreshed = await tryRefresh(ctx, provider, read.token, now);
      if (refreshed) return refreshed;
      reason = "refresh_rejected";
    }
    const headless = headlessFlowOf(provider);
    if (headless) return okResult(await runHeadless(ctx, provider, headless), "headless");
    return {
      status: "login_required",
      providerId: provider.id,
      reason,
      command: loginCommand(provider.id),
      message: `provider "${provider.id}" needs a login (${reason.replace("_", " ")}): ${loginHint(provider.id)}.`,
    };
  });
}

/** Refreshes under the lock. Returns undefined when the IdP refused the refresh token. */
async function tryRefresh(
  ctx: EngineContext,
  provider: ProviderConfig,
  previous: StoredToken,
  now: number,
): Promise<EnsureResult | undefined> {
  const tokenClient = clientForToken(provider, previous) ?? provider.loginClient;
  try {
    const config = await configurationFor(ctx, provider, tokenClient);
    const response = await refresh(provider, config, previous.refreshToken as string);
    const token = toStoredToken({
      provider,
      client: tokenClient,
      flow: previous.flow,
      response,
      now: ctx.now(),
      previous,
    });
    await writeToken(ctx, token);
    ctx.logger.emit("oauth2_token_refreshed", {
      provider: provider.id,
      fingerprint: fingerprint(token.accessToken),
      expiresAt: token.expiresAt,
      rotated: Boolean(response.refresh_token && response.refresh_token !== previous.refreshToken),
    });
    return okResult(token, "refresh");
  } catch (err) {
    const error = toOAuth2Error(err, "refresh", provider.id, tokenClient);
    ctx.logger.emit("oauth2_token_refresh_failed", error.toLogFields());
    if (error.idp?.error === "invalid_grant") {
      // The refresh token is dead (revoked, expired, rotated away): never send it again.
      await writeToken(ctx, { ...previous, refreshToken: undefined, expiresAt: 0 });
      return undefined;
    }
    // Anything else — the IdP down or in maintenance, a client secret being rotated, a proxy
    // asking for credentials, an answer without a reason — says nothing about the refresh
    // token: it is kept for the next try, and a token that has not expired yet is still good.
    ctx.logger.emit("oauth2_refresh_token_kept", {
      ...error.toLogFields(),
      reason: error.idp?.error ?? error.code,
    });
    if (previous.expiresAt !== undefined && previous.expiresAt > now) {
      return okResult(previous, "cache");
    }
    throw new OAuth2Error({
      code: error.code,
      providerId: provider.id,
      message: error.detail,
      fix: `${error.fix} (the refresh token was kept: once this is fixed, the next request refreshes without a login)`,
      idp: error.idp,
      answer: error.answer,
      cause: error,
    });
  }
}

/** client_credentials or token_exchange with the provider's (confidential) client. */
async function runHeadless(
  ctx: EngineContext,
  provider: ProviderConfig,
  flow: HeadlessFlow,
): Promise<StoredToken> {
  try {
    const config = await configurationFor(ctx, provider, provider.client);
    const response =
      flow === "client_credentials"
        ? await clientCredentials(provider, config)
        : await tokenExchange(provider, config, ctx.env);
    const token = toStoredToken({
      provider,
      client: provider.client,
      flow,
      response,
      now: ctx.now(),
    });
    await writeToken(ctx, token);
    ctx.logger.emit("oauth2_headless_token_obtained", {
      provider: provider.id,
      flow,
      fingerprint: fingerprint(token.accessToken),
      expiresAt: token.expiresAt,
    });
    return token;
  } catch (err) {
    const error = err instanceof OAuth2Error ? err : toOAuth2Error(err, flow, provider.id);
    ctx.logger.emit("oauth2_headless_token_failed", { flow, ...error.toLogFields() });
    throw error;
  }
}
