import type { CacheKey, ModelsInfoCache } from "./cache.js";
import { isModelsInfoError } from "./errors.js";
import type { ModelsInfoLogger } from "./events.js";
import type { FetchResult } from "./fetch.js";
import type { Parsed } from "./schema.js";

export interface LoadInput<T> {
  key: CacheKey;
  cache: ModelsInfoCache;
  ttlMs: number;
  now: () => number;
  logger: ModelsInfoLogger;
  /** Validates a fetched body (throws `document_invalid` when it is wrong as a whole). */
  parse(body: unknown): Parsed<T>;
  /** Validates a cached payload again; undefined when it no longer does. */
  decode(payload: unknown): T[] | undefined;
  /** The network request, conditional when an ETag is given. */
  request(etag: string | undefined): Promise<FetchResult>;
}

export type LoadSource = "cache" | "network" | "revalidated" | "stale" | "none";

export interface LoadResult<T> {
  items: T[] | undefined;
  source: LoadSource;
}

/**
 * The cache policy for one resource:
 * - a copy younger than the TTL is used with no request at all;
 * - otherwise the server is asked, with If-None-Match when the copy has an ETag; a 304 moves
 *   the copy's timestamp, a 200 is validated and replaces it;
 * - when the request fails, the stale copy is used, or nothing when there is none.
 * Each outcome is one log event.
 */
export async function loadResource<T>(input: LoadInput<T>): Promise<LoadResult<T>> {
  const { key, cache, logger } = input;
  const base = { provider: key.providerId, resource: key.resource, url: key.url };
  let copy = await cache.read(key);
  const cached = copy ? input.decode(copy.entry.payload) : undefined;
  if (copy && !cached) {
    logger.emit("models_info_cache_unreadable", {
      ...base,
      file: copy.file,
      detail: "the cached payload no longer validates",
    });
    copy = undefined;
  }
  if (copy && cached && input.now() - copy.validatedAt < input.ttlMs) {
    logger.emit("models_info_cache_hit", { ...base, ageMs: input.now() - copy.validatedAt });
    return { items: cached, source: "cache" };
  }
  try {
    const result = await input.request(copy?.entry.etag);
    if (result.status === "not_modified" && copy && cached) {
      await cache.touch(copy);
      logger.emit("models_info_not_modified", base);
      return { items: cached, source: "revalidated" };
    }
    if (result.status !== "ok") throw new Error("304 without a cached copy");
    const parsed = input.parse(result.body);
    for (const skipped of parsed.skipped) {
      logger.emit("models_info_entry_skipped", { ...base, ...skipped });
    }
    await cache.write(key, { payload: parsed.items, etag: result.etag });
    logger.emit("models_info_fetched", {
      ...base,
      models: parsed.items.length,
      skipped: parsed.skipped.length,
      etag: Boolean(result.etag),
    });
    return { items: parsed.items, source: "network" };
  } catch (err) {
    if (!isModelsInfoError(err)) throw err;
    if (err.code === "document_invalid") {
      logger.emit("models_info_document_invalid", { ...base, ...err.toLogFields() });
    }
    if (copy && cached) {
      logger.emit("models_info_fetch_failed_using_stale", {
        ...base,
        ...err.toLogFields(),
        ageMs: input.now() - copy.validatedAt,
      });
      return { items: cached, source: "stale" };
    }
    logger.emit("models_info_fetch_failed_no_cache", { ...base, ...err.toLogFields() });
    return { items: undefined, source: "none" };
  }
}
