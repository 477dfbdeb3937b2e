import type { ProviderConfig } from "../config/schema.js";
import { OAuth2Error } from "../errors.js";
import type { FetchLike } from "../fetch.js";
import type { CoreEvent, Logger } from "../log.js";
import type { BrowserOpener } from "../loopback/browser.js";
import type { StoredToken, TokenStore } from "../store/token-store.js";

export type LoginRequiredReason = "no_token" | "expired" | "refresh_rejected" | "foreign_token";

export type TokenSource = "cache" | "refresh" | "login" | "headless";

export type EnsureResult =
  | {
      status: "ok";
      providerId: string;
      accessToken: string;
      tokenType: string;
      expiresAt?: number | undefined;
      source: TokenSource;
    }
  | {
      status: "login_required";
      providerId: string;
      reason: LoginRequiredReason;
      /** The command that fixes it. */
      command: string;
      message: string;
    };

/** What the engine's parts share: the store, the logger and the injected clock/fetch/env. */
export interface EngineContext {
  readonly store: TokenStore;
  readonly logger: Logger<CoreEvent>;
  readonly fetch: FetchLike | undefined;
  readonly now: () => number;
  readonly openBrowser: BrowserOpener;
  readonly env: NodeJS.ProcessEnv;
}

export function okResult(token: StoredToken, source: TokenSource): EnsureResult {
  return {
    status: "ok",
    providerId: token.providerId,
    accessToken: token.accessToken,
    tokenType: token.tokenType,
    expiresAt: token.expiresAt,
    source,
  };
}

/**
 * Writes a token to the cache, where the provider's `storage` says; a failure is a named error
 * and a log event.
 */
export async function writeToken(
  ctx: EngineContext,
  provider: ProviderConfig,
  token: StoredToken,
): Promise<void> {
  try {
    await ctx.store.write(token, provider.storage);
  } catch (err) {
    const error = new OAuth2Error({
      code: "cache_failed",
      providerId: token.providerId,
      message: `could not write the token cache (${(err as NodeJS.ErrnoException).code ?? String(err)}).`,
      fix: `check that ${ctx.store.dir} is writable by you and the disk is not full`,
      cause: err,
    });
    ctx.logger.emit("oauth2_token_cache_write_failed", error.toLogFields());
    throw error;
  }
}
