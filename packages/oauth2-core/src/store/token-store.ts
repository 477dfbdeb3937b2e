import { readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ProviderConfig, TokenStorage } from "../config/schema.js";
import type { CoreEvent, Logger } from "../log.js";
import { ensurePrivateDir, FILE_MODE, writeFileAtomic } from "./atomic-file.js";
import type { KeyringRef } from "./keyring.js";
import { KeyringTokens, metadataOf } from "./keyring-tokens.js";
import { type LockLease, type LockOptions, withFileLock } from "./lock.js";
import { fileSafe } from "./paths.js";
import {
  clientForToken,
  type StoredToken,
  StoredTokenSchema,
  type TokenLocation,
  type TokenMetadata,
  TokenMetadataSchema,
} from "./stored-token.js";

export { KEYRING_SERVICE } from "./keyring-tokens.js";
export * from "./stored-token.js";

/** Larger than any token file that holds only metadata. */
const MAX_METADATA_BYTES = 16 * 1024;

export type ReadResult =
  | { kind: "absent" }
  | { kind: "ok"; token: StoredToken; location: TokenLocation }
  | { kind: "foreign"; token: StoredToken; location: TokenLocation };

export interface TokenStoreOptions {
  dir: string;
  logger: Logger<CoreEvent>;
  /** The cross-process lock's timings (tests shorten staleMs). */
  lock?: LockOptions | undefined;
}

/**
 * One JSON file per provider under `<cacheDir>/tokens/`, 0600 in a 0700 directory, written
 * atomically. With `storage` keyring (or auto, when a keyring answers) the secrets go to the
 * OS keyring and the file keeps only metadata and where they are. A corrupt or foreign file is
 * renamed aside (`*.corrupt-<time>`) with a log event and treated as absent, so bad state never
 * blocks a login. A keyring that does not answer never costs a token: a write falls back to the
 * file, and a read fails without touching anything.
 */
export class TokenStore {
  readonly dir: string;
  private readonly logger: Logger<CoreEvent>;
  private readonly lockOptions: LockOptions;
  private readonly keyring: KeyringTokens;

  constructor(options: TokenStoreOptions) {
    this.dir = join(options.dir, "tokens");
    this.logger = options.logger;
    this.lockOptions = options.lock ?? {};
    this.keyring = new KeyringTokens(this.dir, this.logger);
  }

  pathFor(providerId: string): string {
    return join(this.dir, `${fileSafe(providerId)}.json`);
  }

  /** The keyring entry a provider's tokens go to from this cache (its dir tells caches apart). */
  keyringRefFor(providerId: string): KeyringRef {
    return this.keyring.refFor(providerId);
  }

  /**
   * Reads the provider's token and checks it is bound to the provider's current config: a token
   * minted for another issuer, client, scopes, audience or resource is `foreign`, never `ok`.
   * Throws a `cache_failed` error when the token is in a keyring that does not answer.
   */
  async read(provider: ProviderConfig): Promise<ReadResult> {
    const path = this.pathFor(provider.id);
    const file = await this.readFile(path);
    if (file === undefined) return { kind: "absent" };
    let parsed: StoredToken | undefined;
    let location: TokenLocation = "file";
    if (file.kind === "keyring") {
      location = "keyring";
      if (file.metadata?.providerId === provider.id) {
        parsed = await this.keyring.read(provider.id, file.metadata.keyring);
        // The keyring lost the entry (removed by hand, another keyring): nothing to use.
        if (!parsed) return { kind: "absent" };
      }
    } else {
      const result = StoredTokenSchema.safeParse(file.json);
      if (result.success && result.data.providerId === provider.id) parsed = result.data;
    }
    if (!parsed) {
      await this.setAside(provider.id, path);
      return { kind: "absent" };
    }
    // Not logged here: the engine says so once per ensure, not once per read.
    if (!clientForToken(provider, parsed)) return { kind: "foreign", token: parsed, location };
    return { kind: "ok", token: parsed, location };
  }

  /**
   * Saves a token where `storage` says: the keyring (keyring, or auto) with its metadata in the
   * file, else the file. A keyring that does not answer gets the token written to the file
   * instead (logged once), never dropped: it moves to the keyring on a later write. A copy
   * left in the place the token no longer lives is removed after the new one is written.
   */
  async write(token: StoredToken, storage: TokenStorage = "file"): Promise<TokenLocation> {
    if (await ensurePrivateDir(this.dir)) {
      this.logger.emit("oauth2_token_cache_permissions_fixed", { dir: this.dir, mode: "0700" });
    }
    const path = this.pathFor(token.providerId);
    const previous = await this.keyringRefIn(path);
    if (storage !== "file") {
      const ref = this.keyring.refFor(token.providerId);
      if (await this.keyring.save(token, storage, ref)) {
        await writeFileAtomic(path, `${JSON.stringify(metadataOf(token, ref), null, 2)}\n`);
        if (previous && previous.account !== ref.account) {
          await this.keyring.removeLeftover(token.providerId, previous);
        }
        return "keyring";
      }
    }
    await writeFileAtomic(path, `${JSON.stringify(token, null, 2)}\n`);
    if (previous) await this.keyring.removeLeftover(token.providerId, previous);
    return "file";
  }

  /**
   * Removes the provider's tokens from the file and the keyring. When the file says they are
   * in a keyring that does not answer, nothing is removed and a `cache_failed` error says so:
   * a file that pointed nowhere would hide a secret left in the keyring.
   */
  async remove(providerId: string): Promise<boolean> {
    const path = this.pathFor(providerId);
    const recorded = await this.keyringRefIn(path);
    const removed = await this.keyring.remove(
      providerId,
      recorded ?? this.keyring.refFor(providerId),
      recorded !== undefined,
    );
    try {
      await rm(path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return removed;
      throw err;
    }
  }

  /** Holds the provider's cross-process lock while `fn` runs; `lease` says if it still does. */
  withLock<T>(providerId: string, fn: (lease: LockLease) => Promise<T>): Promise<T> {
    return withFileLock(this.pathFor(providerId), fn, this.lockOptions);
  }

  /** The file's permission bits, or undefined when it does not exist (for doctor/status). */
  async mode(providerId: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathFor(providerId))).mode & 0o777;
    } catch {
      return undefined;
    }
  }

  static readonly expectedFileMode = FILE_MODE;

  /** The file as JSON: a whole token, or a keyring token's metadata; undefined when absent. */
  private async readFile(
    path: string,
  ): Promise<
    | { kind: "file"; json: unknown }
    | { kind: "keyring"; metadata: TokenMetadata | undefined }
    | undefined
  > {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { kind: "file", json: undefined };
    }
    if (typeof json === "object" && json !== null && "keyring" in json) {
      const result = TokenMetadataSchema.safeParse(json);
      return { kind: "keyring", metadata: result.success ? result.data : undefined };
    }
    return { kind: "file", json };
  }

  /** The keyring entry the provider's file points to, if it points to one. */
  private async keyringRefIn(path: string): Promise<KeyringRef | undefined> {
    // Every write asks this. A file holding the tokens themselves can be large (a JWT with many
    // claims) and is not read again for it: metadata is small. One that is not read leaves at
    // worst a keyring copy that logout (which asks the keyring by name) removes.
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (size === 0 || size > MAX_METADATA_BYTES) return undefined;
    const file = await this.readFile(path).catch(() => undefined);
    return file?.kind === "keyring" ? file.metadata?.keyring : undefined;
  }

  private async setAside(providerId: string, path: string): Promise<void> {
    const movedTo = `${path}.corrupt-${Date.now()}`;
    try {
      await rename(path, movedTo);
    } catch {
      // Already moved by another process; nothing to do.
    }
    this.logger.emit("oauth2_token_cache_corrupt", { provider: providerId, file: path, movedTo });
  }
}
