import type { HeadlessFlow, ProviderConfig } from "../config/schema.js";
import { loginCommand, OAuth2Error } from "../errors.js";
import { clientCredentials } from "../flows/client-credentials.js";
import { refresh } from "../flows/refresh.js";
import { isFresh, toStoredToken } from "../flows/token-response.js";
import { workloadGrant } from "../flows/workload-grants.js";
import { fingerprint } from "../log.js";
import { toOAuth2Error } from "../oidc/protocol-errors.js";
import { loginHint } from "../opencode/login-hint.js";
import type { LockLease } from "../store/lock.js";
import { clientForToken, type StoredToken } from "../store/token-store.js";
import {
  type EngineContext,
  type EnsureResult,
  type LoginRequiredReason,
  okResult,
  writeToken,
} from "./context.js";
import { configurationFor } from "./discovery.js";

/** A refreshed token not yet written, and the refresh token it cost. */
interface Carried {
  token: StoredToken;
  rotated: boolean;
}

/**
 * This process may have lost the provider's lock (it was paused while another process took it
 * over): nothing was written; `carried` holds tokens already obtained, if any.
 */
class LeaseLost {
  constructor(
    readonly stage: "before_refresh" | "before_write",
    readonly carried?: Carried,
  ) {}
}

/** Takeovers in a row after which the engine stops retrying. */
const MAX_LOCK_ATTEMPTS = 3;

/**
 * Under the provider's cross-process lock: use a token another process just refreshed, else
 * refresh, else run the headless flow, else say a login is required. When the lock was taken
 * over while this process was paused, it starts again under a new lock and re-reads the cache,
 * so a refresh token another process already spent is never sent again.
 */
export async function renewUnderLock(
  ctx: EngineContext,
  provider: ProviderConfig,
): Promise<EnsureResult> {
  let carried: Carried | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await ctx.store.withLock(provider.id, (lease) =>
      renewOnce(ctx, provider, lease, carried),
    );
    if (!(outcome instanceof LeaseLost)) return outcome;
    ctx.logger.emit("oauth2_lock_lost", { provider: provider.id, stage: outcome.stage, attempt });
    carried = outcome.carried ?? carried;
    if (attempt >= MAX_LOCK_ATTEMPTS) {
      throw new OAuth2Error({
        code: "cache_failed",
        providerId: provider.id,
        message: `the lock on the token cache was taken over ${attempt} times in a row while this process renewed the token.`,
        fix: `check for processes that stop and resume (a debugger, Ctrl-Z) or a clock that jumps; the lock lives beside ${ctx.store.pathFor(provider.id)}`,
      });
    }
  }
}

async function renewOnce(
  ctx: EngineContext,
  provider: ProviderConfig,
  lease: LockLease,
  carried: Carried | undefined,
): Promise<EnsureResult | LeaseLost> {
  const read = await ctx.store.read(provider);
  const now = ctx.now();
  if (read.kind === "ok" && isFresh(read.token, now, provider.tokenExpirySkewMs)) {
    ctx.logger.emit("oauth2_token_refreshed_by_other_process", { provider: provider.id });
    return okResult(read.token, "cache");
  }
  // Refreshed before the lock was lost, and nobody wrote a fresher token since: keep ours.
  if (carried) return saveRefreshed(ctx, provider, lease, carried);
  let reason: LoginRequiredReason =
    read.kind === "absent" ? "no_token" : read.kind === "foreign" ? "foreign_token" : "expired";
  if (read.kind === "ok" && read.token.refreshToken) {
    const refreshed = await tryRefresh(ctx, provider, read.token, now, lease);
    if (refreshed) return refreshed;
    reason = "refresh_rejected";
  }
  const headless = provider.headlessFlow;
  if (headless) return okResult(await runHeadless(ctx, provider, headless), "headless");
  return {
    status: "login_required",
    providerId: provider.id,
    reason,
    command: loginCommand(provider.id),
    message: `provider "${provider.id}" needs a login (${reason.replace("_", " ")}): ${loginHint(provider.id)}.`,
  };
}

/** Writes a refreshed token, unless the lock may be another process's by now. */
async function saveRefreshed(
  ctx: EngineContext,
  provider: ProviderConfig,
  lease: LockLease,
  carried: Carried,
): Promise<EnsureResult | LeaseLost> {
  if (!(await lease.held())) return new LeaseLost("before_write", carried);
  await writeToken(ctx, provider, carried.token);
  ctx.logger.emit("oauth2_token_refreshed", {
    provider: provider.id,
    fingerprint: fingerprint(carried.token.accessToken),
    expiresAt: carried.token.expiresAt,
    rotated: carried.rotated,
  });
  return okResult(carried.token, "refresh");
}

/**
 * Refreshes under the lock. Returns undefined when the IdP refused the refresh token, and
 * LeaseLost — before sending it — when the lock may be another process's now.
 */
async function tryRefresh(
  ctx: EngineContext,
  provider: ProviderConfig,
  previous: StoredToken,
  now: number,
  lease: LockLease,
): Promise<EnsureResult | LeaseLost | undefined> {
  const tokenClient = clientForToken(provider, previous) ?? provider.loginClient;
  try {
    const config = await configurationFor(ctx, provider, tokenClient);
    // The last moment before the refresh token is spent: if another process may hold the lock
    // now, it may be spending the same token.
    if (!(await lease.held())) return new LeaseLost("before_refresh");
    const response = await refresh(provider, config, previous.refreshToken as string);
    const token = toStoredToken({
      provider,
      client: tokenClient,
      flow: previous.flow,
      response,
      now: ctx.now(),
      previous,
    });
    const rotated = Boolean(
      response.refresh_token && response.refresh_token !== previous.refreshToken,
    );
    return await saveRefreshed(ctx, provider, lease, { token, rotated });
  } catch (err) {
    const error = toOAuth2Error(err, "refresh", provider.id, tokenClient);
    ctx.logger.emit("oauth2_token_refresh_failed", error.toLogFields());
    if (error.idp?.error === "invalid_grant") {
      // Another process that took the lock over may have rotated it: read again, write nothing.
      if (!(await lease.held())) return new LeaseLost("before_write");
      // The refresh token is dead (revoked, expired, rotated away): never send it again.
      await writeToken(ctx, provider, { ...previous, refreshToken: undefined, expiresAt: 0 });
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

/** client_credentials, token_exchange or jwt_bearer with the provider's top-level client. */
async function runHeadless(
  ctx: EngineContext,
  provider: ProviderConfig,
  flow: HeadlessFlow,
): Promise<StoredToken> {
  try {
    const config = await configurationFor(ctx, provider, provider.client);
    const source = { env: ctx.env, fetch: ctx.fetch, now: ctx.now, logger: ctx.logger };
    const response =
      flow === "client_credentials"
        ? await clientCredentials(provider, config)
        : await workloadGrant(flow, provider, config, source);
    const token = toStoredToken({
      provider,
      client: provider.client,
      flow,
      response,
      now: ctx.now(),
    });
    await writeToken(ctx, provider, token);
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
