import { readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod/mini";
import { AUTH_FLOWS, type ProviderConfig, type ResolvedClient } from "../config/schema.js";
import type { CoreEvent, Logger } from "../log.js";
import { ensurePrivateDir, FILE_MODE, writeFileAtomic } from "./atomic-file.js";
import { type LockLease, type LockOptions, withFileLock } from "./lock.js";
import { fileSafe } from "./paths.js";

/**
 * What minted a token. A cached token is only ever used when the provider's current config
 * would mint a token with the same binding, so after a config change an old token is never sent
 * to another IdP, client or audience.
 */
export const TokenBindingSchema = z.object({
  issuer: z.string(),
  clientId: z.string(),
  scopes: z.array(z.string()),
  audience: z.optional(z.string()),
  resource: z.optional(z.array(z.string())),
});
export type TokenBinding = z.infer<typeof TokenBindingSchema>;

/** The on-disk shape of one provider's token file. */
export const StoredTokenSchema = z.object({
  version: z.literal(1),
  providerId: z.string(),
  binding: TokenBindingSchema,
  flow: z.enum(AUTH_FLOWS),
  accessToken: z.string().check(z.minLength(1)),
  tokenType: z._default(z.string(), "Bearer"),
  /** Epoch ms; absent when the IdP gave no lifetime (then the token is used until a 401). */
  expiresAt: z.optional(z.number()),
  refreshToken: z.optional(z.string().check(z.minLength(1))),
  idToken: z.optional(z.string()),
  /** Scope granted, as the IdP reported it. */
  scope: z.optional(z.string()),
  /** `sub` of the id_token or access token, for status displays. */
  subject: z.optional(z.string()),
  obtainedAt: z.number(),
});
export type StoredToken = z.infer<typeof StoredTokenSchema>;

export function bindingFor(provider: ProviderConfig, client: ResolvedClient): TokenBinding {
  return {
    issuer: provider.issuer,
    clientId: client.clientId,
    scopes: [...provider.scopes].sort(),
    ...(provider.audience ? { audience: provider.audience } : {}),
    ...(provider.resource ? { resource: [...provider.resource].sort() } : {}),
  };
}

export function sameBinding(a: TokenBinding, b: TokenBinding): boolean {
  const canon = (x: TokenBinding) =>
    JSON.stringify([
      x.issuer,
      x.clientId,
      [...x.scopes].sort(),
      x.audience ?? null,
      [...(x.resource ?? [])].sort(),
    ]);
  return canon(a) === canon(b);
}

/** The client of `provider` that minted `token`, or undefined when neither binding matches. */
export function clientForToken(
  provider: ProviderConfig,
  token: StoredToken,
): ResolvedClient | undefined {
  for (const client of [provider.loginClient, provider.client]) {
    if (sameBinding(bindingFor(provider, client), token.binding)) return client;
  }
  return undefined;
}

export type ReadResult =
  | { kind: "absent" }
  | { kind: "ok"; token: StoredToken }
  | { kind: "foreign"; token: StoredToken };

export interface TokenStoreOptions {
  dir: string;
  logger: Logger<CoreEvent>;
  /** The cross-process lock's timings (tests shorten staleMs). */
  lock?: LockOptions | undefined;
}

/**
 * One JSON file per provider under `<cacheDir>/tokens/`, 0600 in a 0700 directory, written
 * atomically. A corrupt or foreign file is renamed aside (`*.corrupt-<time>`) with a log event
 * and treated as absent, so bad state never blocks a login.
 */
export class TokenStore {
  readonly dir: string;
  private readonly logger: Logger<CoreEvent>;
  private readonly lockOptions: LockOptions;

  constructor(options: TokenStoreOptions) {
    this.dir = join(options.dir, "tokens");
    this.logger = options.logger;
    this.lockOptions = options.lock ?? {};
  }

  pathFor(providerId: string): string {
    return join(this.dir, `${fileSafe(providerId)}.json`);
  }

  /**
   * Reads the provider's token and checks it is bound to the provider's current config: a token
   * minted for another issuer, client, scopes, audience or resource is `foreign`, never `ok`.
   */
  async read(provider: ProviderConfig): Promise<ReadResult> {
    const path = this.pathFor(provider.id);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "absent" };
      throw err;
    }
    let parsed: StoredToken | undefined;
    try {
      const result = StoredTokenSchema.safeParse(JSON.parse(text));
      if (result.success && result.data.providerId === provider.id) parsed = result.data;
    } catch {
      parsed = undefined;
    }
    if (!parsed) {
      await this.setAside(provider.id, path);
      return { kind: "absent" };
    }
    // Not logged here: the engine says so once per ensure, not once per read.
    if (!clientForToken(provider, parsed)) return { kind: "foreign", token: parsed };
    return { kind: "ok", token: parsed };
  }

  async write(token: StoredToken): Promise<void> {
    if (await ensurePrivateDir(this.dir)) {
      this.logger.emit("oauth2_token_cache_permissions_fixed", { dir: this.dir, mode: "0700" });
    }
    await writeFileAtomic(this.pathFor(token.providerId), `${JSON.stringify(token, null, 2)}\n`);
  }

  async remove(providerId: string): Promise<boolean> {
    const path = this.pathFor(providerId);
    try {
      await rm(path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
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
