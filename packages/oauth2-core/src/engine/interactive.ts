import type * as client from "openid-client";
import type { InteractiveFlow, ProviderConfig } from "../config/schema.js";
import { toStoredToken } from "../flows/token-response.js";
import { fingerprint } from "../log.js";
import { type PendingLogin, startInteractiveLogin } from "../login.js";
import { type ProtocolStep, toOAuth2Error } from "../oidc/protocol-errors.js";
import type { StoredToken } from "../store/token-store.js";
import { type EngineContext, writeToken } from "./context.js";
import { configurationFor } from "./discovery.js";

/** Talks to the user during an interactive login (CLI, opencode's auth dialog). */
export interface LoginPrompter {
  onBrowserLogin?(info: { providerId: string; url: string; browserOpened: boolean }): void;
  onDeviceCode?(info: {
    providerId: string;
    verificationUri: string;
    verificationUriComplete?: string | undefined;
    userCode: string;
    expiresAt: number;
  }): void;
}

export interface EnsureOptions {
  /** Run a login when no token can be had otherwise. Default false: never prompts. */
  interactive?: boolean;
  flow?: InteractiveFlow;
  prompter?: LoginPrompter;
  openBrowser?: boolean;
  signal?: AbortSignal;
}

export type StartedLogin = PendingLogin & { complete: () => Promise<StoredToken> };

/** Starts an interactive login; the caller shows the URL or user code, then awaits `complete`. */
export async function startLogin(
  ctx: EngineContext,
  provider: ProviderConfig,
  options: { flow?: InteractiveFlow; signal?: AbortSignal } = {},
): Promise<StartedLogin> {
  // A provider that needs no user still logs in by browser when asked to.
  const flow = options.flow ?? provider.loginFlow ?? "authorization_code";
  /** The error the login ends with, logged once. */
  const failed = (err: unknown, step: ProtocolStep) => {
    const error = toOAuth2Error(err, step, provider.id);
    ctx.logger.emit("oauth2_login_failed", { flow, ...error.toLogFields() });
    return error;
  };
  ctx.logger.emit("oauth2_login_started", {
    provider: provider.id,
    flow,
    clientId: provider.loginClient.clientId,
  });
  let pending: PendingLogin;
  try {
    const config = await configurationFor(ctx, provider, provider.loginClient);
    pending = await startInteractiveLogin(provider, config, {
      flow,
      now: ctx.now,
      signal: options.signal,
      onCallbackIgnored: ({ stateSent }) =>
        ctx.logger.emit("oauth2_login_callback_ignored", {
          provider: provider.id,
          reason: stateSent ? "state_mismatch" : "state_missing",
        }),
    });
  } catch (err) {
    throw failed(err, flow === "device_code" ? "device_authorization" : "authorization");
  }
  if (pending.kind === "device") {
    ctx.logger.emit("oauth2_device_code_issued", {
      provider: provider.id,
      verificationUri: pending.verificationUri,
      expiresAt: pending.expiresAt,
    });
  }
  const complete = async () => {
    let response: client.TokenEndpointResponse;
    try {
      response = await pending.result;
    } catch (err) {
      throw failed(err, flow === "device_code" ? "device_poll" : "code_exchange");
    }
    const token = toStoredToken({
      provider,
      client: provider.loginClient,
      flow,
      response,
      now: ctx.now(),
    });
    await ctx.store.withLock(provider.id, () => writeToken(ctx, provider, token));
    ctx.logger.emit("oauth2_login_succeeded", {
      provider: provider.id,
      flow,
      subject: token.subject,
      expiresAt: token.expiresAt,
      refreshable: Boolean(token.refreshToken),
      fingerprint: fingerprint(token.accessToken),
    });
    return token;
  };
  return { ...pending, complete };
}

/** A whole interactive login: start it, tell the user (and open the browser), wait for it. */
export async function login(
  ctx: EngineContext,
  provider: ProviderConfig,
  options: EnsureOptions = {},
): Promise<StoredToken> {
  const pending = await startLogin(ctx, provider, {
    ...(options.flow ? { flow: options.flow } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (pending.kind === "browser") {
    const browserOpened =
      options.openBrowser === false ? false : await ctx.openBrowser(pending.url);
    if (options.openBrowser !== false && !browserOpened) {
      ctx.logger.emit("oauth2_browser_open_failed", { provider: provider.id });
    }
    options.prompter?.onBrowserLogin?.({
      providerId: provider.id,
      url: pending.url,
      browserOpened,
    });
  } else {
    options.prompter?.onDeviceCode?.({
      providerId: provider.id,
      verificationUri: pending.verificationUri,
      verificationUriComplete: pending.verificationUriComplete,
      userCode: pending.userCode,
      expiresAt: pending.expiresAt,
    });
  }
  return pending.complete();
}
