import { createHash } from "node:crypto";
import { readFile, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { parseWithMessages, writeFileAtomic } from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";
import type { ModelsInfoLogger } from "./events.js";

/**
 * The on-disk and in-memory cache of fetched documents, under `<cache dir>/models-info/`, one
 * 0600 file per (resource, provider, URL), written atomically. The file's mtime is when the copy
 * was last confirmed (fetched, or revalidated by a 304): a 304 moves the mtime and leaves the
 * file itself alone. Only validated payloads are ever written; an error never is.
 */

export type Resource = "document" | "model_list";

const EntrySchema = z.object({
  version: z.literal(1),
  resource: z.enum(["document", "model_list"]),
  providerId: z.string(),
  url: z.string(),
  etag: z.optional(z.string()),
  /** When the body was fetched (ms since epoch). */
  fetchedAt: z.number(),
  payload: z.unknown(),
});

export type CacheEntry = z.output<typeof EntrySchema>;

export interface CachedCopy {
  entry: CacheEntry;
  /** When the copy was last confirmed by the server (ms since epoch). */
  validatedAt: number;
  file: string;
}

export interface CacheKey {
  resource: Resource;
  providerId: string;
  url: string;
}

export class ModelsInfoCache {
  readonly dir: string;
  private readonly now: () => number;
  private readonly logger: ModelsInfoLogger;
  private readonly memory = new Map<string, CachedCopy>();

  constructor(options: { dir: string; now?: () => number; logger: ModelsInfoLogger }) {
    this.dir = options.dir;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  /** sha256 of resource, provider and URL: two providers or two URLs never share a file. */
  fileFor(key: CacheKey): string {
    const hash = createHash("sha256")
      .update(JSON.stringify([key.resource, key.providerId, key.url]))
      .digest("hex");
    return join(this.dir, `${hash}.json`);
  }

  /** The cached copy for `key`: from memory, else from disk; undefined when absent or unusable. */
  async read(key: CacheKey): Promise<CachedCopy | undefined> {
    const file = this.fileFor(key);
    const remembered = this.memory.get(file);
    if (remembered) return remembered;
    let text: string;
    let mtimeMs: number;
    try {
      [text, { mtimeMs }] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.unreadable(key, file, err);
      return undefined;
    }
    let entry: CacheEntry;
    try {
      entry = EntrySchema.parse(JSON.parse(text), parseWithMessages);
    } catch (err) {
      this.unreadable(key, file, err);
      return undefined;
    }
    if (
      entry.resource !== key.resource ||
      entry.providerId !== key.providerId ||
      entry.url !== key.url
    ) {
      this.unreadable(key, file, new Error("the file belongs to another provider or URL"));
      return undefined;
    }
    const copy = { entry, validatedAt: Math.round(mtimeMs), file };
    this.memory.set(file, copy);
    return copy;
  }

  /** Stores a freshly fetched payload. Failures are logged, never thrown. */
  async write(
    key: CacheKey,
    data: { payload: unknown; etag?: string | undefined },
  ): Promise<CachedCopy> {
    const now = this.now();
    const entry: CacheEntry = {
      version: 1,
      ...key,
      ...(data.etag ? { etag: data.etag } : {}),
      fetchedAt: now,
      payload: data.payload,
    };
    const file = this.fileFor(key);
    const copy = { entry, validatedAt: now, file };
    this.memory.set(file, copy);
    try {
      await writeFileAtomic(file, `${JSON.stringify(entry)}\n`);
      await utimes(file, now / 1000, now / 1000);
      this.logger.emit("models_info_cache_written", {
        provider: key.providerId,
        resource: key.resource,
        file,
      });
    } catch (err) {
      this.logger.emit("models_info_cache_write_failed", {
        provider: key.providerId,
        resource: key.resource,
        file,
        detail: String(err),
      });
    }
    return copy;
  }

  /** A 304 confirmed `copy`: move its timestamp to now without rewriting the file. */
  async touch(copy: CachedCopy): Promise<CachedCopy> {
    const now = this.now();
    const touched = { ...copy, validatedAt: now };
    this.memory.set(copy.file, touched);
    try {
      await utimes(copy.file, now / 1000, now / 1000);
    } catch (err) {
      this.logger.emit("models_info_cache_write_failed", {
        provider: copy.entry.providerId,
        resource: copy.entry.resource,
        file: copy.file,
        detail: String(err),
      });
    }
    return touched;
  }

  private unreadable(key: CacheKey, file: string, err: unknown): void {
    this.logger.emit("models_info_cache_unreadable", {
      provider: key.providerId,
      resource: key.resource,
      file,
      detail: err instanceof Error ? err.message : String(err),
    });
  }
}
