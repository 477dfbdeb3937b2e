import type { TokenStorage } from "../config/schema.js";
import { OAuth2Error } from "../errors.js";
import type { CoreEvent, Logger } from "../log.js";
import type { KeyringRef, OnRetry } from "./keyring.js";
import { type StoredToken, StoredTokenSchema, type TokenMetadata } from "./stored-token.js";

/**
 * The keyring half of the token store: a token whose secrets live in the OS keyring. The whole
 * token goes into one keyring entry per provider and cache; the token file keeps its metadata
 * and the entry's name ({@link TokenMetadata}).
 */

/** The keyring service every entry of this app is filed under. */
export const KEYRING_SERVICE = "opencode-oauth2";

/** The native binding loads with this module, on first use: a start whose tokens are in the
 * file never pays for it. */
const keyring = () => import("./keyring.js");

/** Keyring fallbacks already logged in this process, per tokens dir: said once, not per write. */
const fallbacksLogged = new Set<string>();

/** What of a token the file may keep when its secrets are in the keyring. */
export function metadataOf(token: StoredToken, ref: KeyringRef): TokenMetadata {
  const { accessToken: _access, refreshToken, idToken: _id, ...rest } = token;
  return { ...rest, hasRefreshToken: refreshToken !== undefined, keyring: ref };
}

export class KeyringTokens {
  constructor(
    /** The tokens dir: in the entry's name, so two caches never share an entry. */
    private readonly dir: string,
    private readonly logger: Logger<CoreEvent>,
  ) {}

  /** The keyring entry a provider's tokens go to from this cache. */
  refFor(providerId: string): KeyringRef {
    return { service: KEYRING_SERVICE, account: `${providerId}@${this.dir}` };
  }

  /**
   * The token in entry `ref`; undefined when there is none (or it holds no token of this
   * provider). A keyring that does not answer is a `cache_failed` error.
   */
  async read(providerId: string, ref: KeyringRef): Promise<StoredToken | undefined> {
    let text: string | undefined;
    try {
      text = await (await keyring()).getSecret(ref, this.retried(providerId, "read"));
    } catch (err) {
      throw this.failure(providerId, "read", err);
    }
    if (text === undefined) return undefined;
    try {
      const result = StoredTokenSchema.safeParse(JSON.parse(text));
      return result.success && result.data.providerId === providerId ? result.data : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Saves the whole token in the provider's entry. False when no keyring answered (logged once
   * per process): the caller keeps the token in the file instead.
   */
  async save(token: StoredToken, storage: TokenStorage, ref: KeyringRef): Promise<boolean> {
    try {
      await (await keyring()).setSecret(
        ref,
        JSON.stringify(token),
        this.retried(token.providerId, "write"),
      );
      return true;
    } catch (err) {
      if (!(err instanceof Error) || err.name !== "KeyringUnavailable") throw err;
      if (!fallbacksLogged.has(this.dir)) {
        fallbacksLogged.add(this.dir);
        this.logger.emit("oauth2_keyring_unavailable", {
          provider: token.providerId,
          storage,
          operation: "write",
          fallback: "file",
          reason: err.message,
        });
      }
      return false;
    }
  }

  /**
   * Deletes an entry. `recorded`: the token file names it, so a keyring that does not answer
   * is a `cache_failed` error; otherwise such a keyring holds nothing of ours and it is false.
   */
  async remove(providerId: string, ref: KeyringRef, recorded: boolean): Promise<boolean> {
    try {
      return await (await keyring()).deleteSecret(ref, this.retried(providerId, "remove"));
    } catch (err) {
      if (recorded) throw this.failure(providerId, "remove", err);
      return false;
    }
  }

  /** Deletes a copy left behind by a move to the file; one that stays goes at the next logout. */
  async removeLeftover(providerId: string, ref: KeyringRef): Promise<void> {
    await (await keyring())
      .deleteSecret(ref, this.retried(providerId, "remove"))
      .catch((err: unknown) => {
        this.logger.emit("oauth2_keyring_unavailable", {
          provider: providerId,
          operation: "remove",
          fallback: "none",
          reason: err instanceof Error ? err.message : String(err),
        });
      });
  }

  /** Says that a keyring call failed in a way a second try can mend, and is tried once more. */
  private retried(providerId: string, operation: "read" | "write" | "remove"): OnRetry {
    return (reason) =>
      this.logger.emit("oauth2_keyring_retried", { provider: providerId, operation, reason });
  }

  private failure(providerId: string, operation: "read" | "remove", err: unknown): OAuth2Error {
    const reason = err instanceof Error ? err.message : String(err);
    this.logger.emit("oauth2_keyring_unavailable", {
      provider: providerId,
      operation,
      fallback: "none",
      reason,
    });
    return new OAuth2Error({
      code: "cache_failed",
      providerId,
      message: `the tokens are in the OS keyring, which did not answer (${reason}); nothing was changed.`,
      fix: `unlock the keyring (or start the desktop's Secret Service) and try again; to start over without it, set storage "file" and log in again (opencode-oauth2 login ${providerId})`,
      cause: err,
    });
  }
}
