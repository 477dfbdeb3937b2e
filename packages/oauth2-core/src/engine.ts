import { createHash } from "node:crypto";
import type { InteractiveFlow, ProviderConfig } from "./config/schema.js";
import { type EngineContext, type EnsureResult, okResult } from "./engine/context.js";
import type { LogoutResult } from "./engine/forget.js";
import type { EnsureOptions, StartedLogin } from "./engine/interactive.js";
import type { FetchLike } from "./fetch.js";
import { isFresh } from "./flows/token-response.js";
import { type CoreEvent, createLogger, type Logger } from "./log.js";
import { type BrowserOpener, systemBrowserOpener } from "./loopback/browser.js";
import { processWideMap, singleFlight } from "./shared-promises.js";
import { defaultCacheDir } from "./store/paths.js";
import { type ReadResult, type StoredToken, TokenStore } from "./store/token-store.js";

export type { EnsureResult, LoginRequiredReason, TokenSource } from "./engine/context.js";
export type { LogoutResult } from "./engine/forget.js";
export type { EnsureOptions, LoginPrompter, StartedLogin } from "./engine/interactive.js";
export type { RevocationOutcome } from "./flows/revocation.js";

/**
 * Renewals in flight in this process, shared by every engine over the same cache. opencode runs
 * the oauth2 and the models-info plugins' config hooks one after the other, each with its own
 * engine: without sharing, an IdP that hangs would cost the start one timeout per plugin. An
 * engine that asks while a renewal for the same provider config is pending joins it instead.
 * Kept on globalThis so that two copies of this module (two plugin installs) share it too.
 */
function renewalsInFlight(): Map<string, Promise<EnsureResult>> {
  return processWideMap("@vymalo/oauth2-core:renewals-in-flight@1");
}

/** Same cache, same provider id, same config (issuer, clients, secrets, scopes…). */
function renewalKey(cacheDir: string, provider: ProviderConfig): string {
  const config = createHash("sha256").update(JSON.stringify(provider)).digest("base64url");
  return JSON.stringify([cacheDir, provider.id, config]);
}

export interface EngineOptions {
  /** Where tokens live. Default: the platform cache dir (see defaultCacheDir). */
  cacheDir?: string;
  logger?: Logger<CoreEvent>;
  fetch?: FetchLike;
  now?: () => number;
  openBrowser?: BrowserOpener;
  env?: NodeJS.ProcessEnv;
  /** After how long (ms) a lock whose holder stopped refreshing it is taken over (default
   * 10 s, at least 2 s). For tests of paused lock holders. */
  lockStaleMs?: number;
}

/**
 * The token engine: the single entry point every adapter (plugins, CLI) uses. It knows nothing
 * of opencode. Tokens come from the shared cache with no network call while fresh; otherwise
 * one refresh per provider is in flight at a time in this process, and the file lock makes it
 * one across processes, so a rotating refresh token is never spent twice.
 *
 * The parts live in engine/: renew (refresh and headless grants under the lock), interactive
 * (logins), forget (invalidate after a 401, logout). They hold all the protocol code
 * (openid-client, the file lock) and load on first use: a start that finds a fresh token in
 * the cache, the common case, reads one file and loads none of it.
 */
export class TokenEngine {
  readonly store: TokenStore;
  readonly logger: Logger<CoreEvent>;
  private readonly ctx: EngineContext;
  /** Interactive logins in flight, per provider: one prompt at a time. */
  private readonly logins = new Map<string, Promise<EnsureResult>>();

  constructor(options: EngineOptions = {}) {
    this.logger = options.logger ?? createLogger();
    this.store = new TokenStore({
      dir: options.cacheDir ?? defaultCacheDir(options.env),
      logger: this.logger,
      lock: options.lockStaleMs === undefined ? undefined : { staleMs: options.lockStaleMs },
    });
    this.ctx = {
      store: this.store,
      logger: this.logger,
      fetch: options.fetch,
      now: options.now ?? Date.now,
      openBrowser: options.openBrowser ?? systemBrowserOpener,
      env: options.env ?? process.env,
    };
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
    if (cached.kind === "foreign") {
      this.logger.emit("oauth2_token_cache_binding_mismatch", {
        provider: provider.id,
        cachedIssuer: cached.token.binding.issuer,
        cachedClientId: cached.token.binding.clientId,
        issuer: provider.issuer,
      });
    }
    if (cached.kind === "ok" && isFresh(cached.token, this.ctx.now(), provider.tokenExpirySkewMs)) {
      this.logger.emit("oauth2_token_cache_hit", {
        provider: provider.id,
        expiresAt: cached.token.expiresAt,
      });
      return okResult(cached.token, "cache");
    }
    const renewed = await singleFlight(
      renewalsInFlight(),
      renewalKey(this.store.dir, provider),
      async () => (await import("./engine/renew.js")).renewUnderLock(this.ctx, provider),
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
    return singleFlight(this.logins, provider.id, async () =>
      okResult(await this.login(provider, options), "login"),
    );
  }

  /** Starts an interactive login; the caller shows the URL or user code, then awaits `complete`. */
  async startLogin(
    provider: ProviderConfig,
    options: { flow?: InteractiveFlow; signal?: AbortSignal } = {},
  ): Promise<StartedLogin> {
    return (await import("./engine/interactive.js")).startLogin(this.ctx, provider, options);
  }

  /** A whole interactive login: start it, tell the user (and open the browser), wait for it. */
  async login(provider: ProviderConfig, options: EnsureOptions = {}): Promise<StoredToken> {
    return (await import("./engine/interactive.js")).login(this.ctx, provider, options);
  }

  /**
   * The resource server rejected `accessToken` (401): mark it expired so the next ensure
   * refreshes, keeping the refresh token. A token that already changed is left alone.
   */
  async invalidate(provider: ProviderConfig, accessToken: string): Promise<boolean> {
    return (await import("./engine/forget.js")).invalidate(this.ctx, provider, accessToken);
  }

  /**
   * Removes the cached token and revokes its refresh token when the IdP can; `revocation` says
   * how that ended (a refused revocation leaves the refresh token active at the IdP).
   */
  async logout(
    provider: ProviderConfig,
    options: { revoke?: boolean } = {},
  ): Promise<LogoutResult> {
    return (await import("./engine/forget.js")).logout(this.ctx, provider, options);
  }

  /** The cached token as it is, without any network call (status displays). */
  cached(provider: ProviderConfig): Promise<ReadResult> {
    return this.store.read(provider);
  }
}
