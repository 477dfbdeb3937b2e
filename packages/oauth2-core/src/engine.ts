import * as client from "openid-client";
import {
  type HeadlessFlow,
  type InteractiveFlow,
  isInteractiveFlow,
  type ProviderConfig,
  type ResolvedClient,
} from "./config/schema.js";
import { loginCommand, loginHint, OAuth2Error } from "./errors.js";
import { clientCredentials } from "./flows/client-credentials.js";
import { refresh } from "./flows/refresh.js";
import { tokenExchange } from "./flows/token-exchange.js";
import { isFresh, toStoredToken } from "./flows/token-response.js";
import { type CoreEvent, createLogger, fingerprint, type Logger } from "./log.js";
import { type PendingLogin, startInteractiveLogin } from "./login.js";
import { type BrowserOpener, systemBrowserOpener } from "./loopback/browser.js";
import { clientConfiguration, type FetchLike } from "./oidc/configuration.js";
import { toOAuth2Error } from "./oidc/protocol-errors.js";
import { defaultCacheDir } from "./store/paths.js";
import {
  clientForToken,
  type ReadResult,
  type StoredToken,
  TokenStore,
} from "./store/token-store.js";

export interface EngineOptions {
  /** Where tokens live. Default: the platform cache dir (see defaultCacheDir). */
  cacheDir?: string;
  logger?: Logger<CoreEvent | string>;
  fetch?: FetchLike;
  now?: () => number;
  openBrowser?: BrowserOpener;
  env?: NodeJS.ProcessEnv;
}

export type LoginRequiredReason = "no_token" | "expired" | "refresh_rejected" | "foreign_token";

export type EnsureResult =
  | {
      status: "ok";
      providerId: string;
      accessToken: string;
      tokenType: string;
      expiresAt?: number | undefined;
      source: "cache" | "refresh" | "login" | "headless";
    }
  | {
      status: "login_required";
      providerId: string;
      reason: LoginRequiredReason;
      /** The command that fixes it. */
      command: string;
      message: string;
    };

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

const headlessFlowOf = (p: ProviderConfig): HeadlessFlow | undefined =>
  isInteractiveFlow(p.authFlow) ? p.headlessFlow : p.authFlow;

/**
 * The token engine: the single entry point every adapter (plugins, CLI) uses. It knows nothing
 * of opencode. Tokens come from the shared cache with no network call while fresh; otherwise
 * one refresh per provider is in flight at a time in this process, and the file lock makes it
 * one across processes, so a rotating refresh token is never spent twice.
 */
export class TokenEngine {
  readonly store: TokenStore;
  readonly logger: Logger<CoreEvent | string>;
  private readonly fetch: FetchLike | undefined;
  private readonly now: () => number;
  private readonly openBrowser: BrowserOpener;
  private readonly env: NodeJS.ProcessEnv;
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(options: EngineOptions = {}) {
    this.logger = options.logger ?? createLogger();
    this.store = new TokenStore({
      dir: options.cacheDir ?? defaultCacheDir(options.env),
      logger: this.logger,
    });
    this.fetch = options.fetch;
    this.now = options.now ?? Date.now;
    this.openBrowser = options.openBrowser ?? systemBrowserOpener;
    this.env = options.env ?? process.env;
  }

  /**
   * A valid access token for `provider`: from the cache (no network), refreshed when inside the
   * expiry skew, minted by the headless flow when one is configured, or — only when
   * `interactive` — by a login. Otherwise a typed `login_required` result, never a prompt.
   * IdP failures other than a refused refresh token throw {@link OAuth2Error}.
   */
  async ensureAccessToken(
    provider: ProviderConfig,
    options: EnsureOptions = {},
  ): Promise<EnsureResult> {
    const cached = await this.store.read(provider);
    if (cached.kind === "ok" && isFresh(cached.token, this.now(), provider.tokenExpirySkewMs)) {
      this.logger.emit("oauth2_token_cache_hit", {
        provider: provider.id,
        expiresAt: cached.token.expiresAt,
      });
      return this.ok(cached.token, "cache");
    }
    const renewed = await this.singleFlight(`renew:${provider.id}`, () =>
      this.renewUnderLock(provider),
    );
    if (renewed.status === "ok" || !options.interactive) {
      if (renewed.status === "login_required") {
        this.logger.emit("oauth2_login_required", {
          provider: provider.id,
          reason: renewed.reason,
          command: renewed.command,
        });
      }
      return renewed;
    }
    return this.singleFlight(`login:${provider.id}`, async () => {
      const token = await this.login(provider, options);
      return this.ok(token, "login");
    });
  }

  /** Starts an interactive login; the caller shows the URL or user code, then awaits `complete`. */
  async startLogin(
    provider: ProviderConfig,
    options: { flow?: InteractiveFlow; signal?: AbortSignal } = {},
  ): Promise<PendingLogin & { complete: () => Promise<StoredToken> }> {
    const flow =
      options.flow ??
      (isInteractiveFlow(provider.authFlow) ? provider.authFlow : "authorization_code");
    this.logger.emit("oauth2_login_started", {
      provider: provider.id,
      flow,
      clientId: provider.loginClient.clientId,
    });
    let pending: PendingLogin;
    try {
      const config = await this.configuration(provider, provider.loginClient);
      pending = await startInteractiveLogin(provider, config, {
        flow,
        now: this.now,
        signal: options.signal,
      });
    } catch (err) {
      const error = toOAuth2Error(
        err,
        flow === "device_code" ? "device_authorization" : "authorization",
        provider.id,
      );
      this.logger.emit("oauth2_login_failed", { flow, ...error.toLogFields() });
      throw error;
    }
    if (pending.kind === "device") {
      this.logger.emit("oauth2_device_code_issued", {
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
        const error = toOAuth2Error(
          err,
          flow === "device_code" ? "device_poll" : "code_exchange",
          provider.id,
        );
        this.logger.emit("oauth2_login_failed", { flow, ...error.toLogFields() });
        throw error;
      }
      const token = toStoredToken({
        provider,
        client: provider.loginClient,
        flow,
        response,
        now: this.now(),
      });
      await this.store.withLock(provider.id, () => this.write(token));
      this.logger.emit("oauth2_login_succeeded", {
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
  async login(provider: ProviderConfig, options: EnsureOptions = {}): Promise<StoredToken> {
    const pending = await this.startLogin(provider, {
      ...(options.flow ? { flow: options.flow } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (pending.kind === "browser") {
      const browserOpened =
        options.openBrowser === false ? false : await this.openBrowser(pending.url);
      if (options.openBrowser !== false && !browserOpened) {
        this.logger.emit("oauth2_browser_open_failed", { provider: provider.id });
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

  /**
   * The resource server rejected `accessToken` (401): mark it expired so the next ensure
   * refreshes, keeping the refresh token. A token that already changed is left alone.
   */
  async invalidate(provider: ProviderConfig, accessToken: string): Promise<boolean> {
    return this.store.withLock(provider.id, async () => {
      const read = await this.store.read(provider);
      if (read.kind !== "ok" || read.token.accessToken !== accessToken) return false;
      await this.write({ ...read.token, expiresAt: 0 });
      this.logger.emit("oauth2_token_invalidated", {
        provider: provider.id,
        fingerprint: fingerprint(accessToken),
      });
      return true;
    });
  }

  /** Removes the cached token and revokes its refresh token when the IdP can. */
  async logout(
    provider: ProviderConfig,
    options: { revoke?: boolean } = {},
  ): Promise<{ removed: boolean; revoked: boolean }> {
    return this.store.withLock(provider.id, async () => {
      const read = await this.store.read(provider);
      let revoked = false;
      const token = read.kind === "absent" ? undefined : read.token;
      if (options.revoke !== false && read.kind === "ok" && token?.refreshToken) {
        try {
          const tokenClient = clientForToken(provider, read.token) ?? provider.loginClient;
          const config = await this.configuration(provider, tokenClient);
          if (config.serverMetadata().revocation_endpoint) {
            await client.tokenRevocation(config, token.refreshToken, {
              token_type_hint: "refresh_token",
            });
            revoked = true;
          }
        } catch (err) {
          this.logger.emit(
            "oauth2_revocation_failed",
            toOAuth2Error(err, "revocation", provider.id).toLogFields(),
          );
        }
      }
      const removed = await this.store.remove(provider.id);
      this.logger.emit("oauth2_logout", { provider: provider.id, removed, revoked });
      return { removed, revoked };
    });
  }

  /** The cached token as it is, without any network call (status displays). */
  cached(provider: ProviderConfig): Promise<ReadResult> {
    return this.store.read(provider);
  }

  private async renewUnderLock(provider: ProviderConfig): Promise<EnsureResult> {
    return this.store.withLock(provider.id, async () => {
      const read = await this.store.read(provider);
      const now = this.now();
      if (read.kind === "ok" && isFresh(read.token, now, provider.tokenExpirySkewMs)) {
        this.logger.emit("oauth2_token_refreshed_by_other_process", { provider: provider.id });
        return this.ok(read.token, "cache");
      }
      let reason: LoginRequiredReason =
        read.kind === "absent" ? "no_token" : read.kind === "foreign" ? "foreign_token" : "expired";
      if (read.kind === "ok" && read.token.refreshToken) {
        const refreshed = await this.tryRefresh(provider, read.token, now);
        if (refreshed) return refreshed;
        reason = "refresh_rejected";
      }
      const headless = headlessFlowOf(provider);
      if (headless) return this.ok(await this.runHeadless(provider, headless), "headless");
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
  private async tryRefresh(
    provider: ProviderConfig,
    previous: StoredToken,
    now: number,
  ): Promise<EnsureResult | undefined> {
    const tokenClient = clientForToken(provider, previous) ?? provider.loginClient;
    try {
      const config = await this.configuration(provider, tokenClient);
      const response = await refresh(provider, config, previous.refreshToken as string);
      const token = toStoredToken({
        provider,
        client: tokenClient,
        flow: previous.flow,
        response,
        now: this.now(),
        previous,
      });
      await this.write(token);
      this.logger.emit("oauth2_token_refreshed", {
        provider: provider.id,
        fingerprint: fingerprint(token.accessToken),
        expiresAt: token.expiresAt,
        rotated: Boolean(
          response.refresh_token && response.refresh_token !== previous.refreshToken,
        ),
      });
      return this.ok(token, "refresh");
    } catch (err) {
      const error = toOAuth2Error(err, "refresh", provider.id);
      this.logger.emit("oauth2_token_refresh_failed", error.toLogFields());
      if (error.code !== "idp_error") {
        // The IdP is down or answered garbage: a token that has not expired yet is still good.
        if (previous.expiresAt !== undefined && previous.expiresAt > now)
          return this.ok(previous, "cache");
        throw error;
      }
      // The refresh token was refused (revoked, expired, rotated away): never send it again.
      await this.write({ ...previous, refreshToken: undefined, expiresAt: 0 });
      return undefined;
    }
  }

  private async runHeadless(provider: ProviderConfig, flow: HeadlessFlow): Promise<StoredToken> {
    try {
      const config = await this.configuration(provider, provider.client);
      const response =
        flow === "client_credentials"
          ? await clientCredentials(provider, config)
          : await tokenExchange(provider, config, this.env);
      const token = toStoredToken({
        provider,
        client: provider.client,
        flow,
        response,
        now: this.now(),
      });
      await this.write(token);
      this.logger.emit("oauth2_headless_token_obtained", {
        provider: provider.id,
        flow,
        fingerprint: fingerprint(token.accessToken),
        expiresAt: token.expiresAt,
      });
      return token;
    } catch (err) {
      const error = err instanceof OAuth2Error ? err : toOAuth2Error(err, flow, provider.id);
      this.logger.emit("oauth2_headless_token_failed", { flow, ...error.toLogFields() });
      throw error;
    }
  }

  /** An openid-client Configuration; a discovery failure is logged once here. */
  private async configuration(
    provider: ProviderConfig,
    which: ResolvedClient,
  ): Promise<client.Configuration> {
    try {
      return await clientConfiguration(provider, which, this.fetch);
    } catch (err) {
      const error = toOAuth2Error(err, "discovery", provider.id);
      this.logger.emit("oauth2_discovery_failed", {
        issuer: provider.issuer,
        ...error.toLogFields(),
      });
      throw error;
    }
  }

  private async write(token: StoredToken): Promise<void> {
    try {
      await this.store.write(token);
    } catch (err) {
      const error = new OAuth2Error({
        code: "cache_failed",
        providerId: token.providerId,
        message: `could not write the token cache (${(err as NodeJS.ErrnoException).code ?? String(err)}).`,
        fix: `check that ${this.store.dir} is writable by you and the disk is not full`,
        cause: err,
      });
      this.logger.emit("oauth2_token_cache_write_failed", error.toLogFields());
      throw error;
    }
  }

  private ok(token: StoredToken, source: "cache" | "refresh" | "login" | "headless"): EnsureResult {
    return {
      status: "ok",
      providerId: token.providerId,
      accessToken: token.accessToken,
      tokenType: token.tokenType,
      expiresAt: token.expiresAt,
      source,
    };
  }

  private singleFlight<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.inflight.get(key) as Promise<T> | undefined;
    if (existing) return existing;
    const started = fn().finally(() => this.inflight.delete(key));
    this.inflight.set(key, started);
    return started;
  }
}
