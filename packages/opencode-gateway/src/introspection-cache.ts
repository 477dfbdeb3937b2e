import { Lru } from "./lru.js";
import { tokenKey } from "./token-key.js";
import type { Claims, Introspect } from "./verify-token.js";

/**
 * Introspection answers, remembered so that a token costs one call to the IdP, not one per
 * request: an active answer until the token's `exp`, at most `cacheSec` (the delay before a
 * revocation at the IdP takes effect); an inactive one for `negativeCacheSec` (junk stays junk;
 * this is what makes a hundred requests with the same junk token cost one call). Failures are
 * not remembered. Concurrent requests with the same new token share one call. Keys are SHA-256
 * hashes, so the cache holds no token; entries are bounded by an LRU.
 */

export interface IntrospectionCacheOptions {
  cacheSec: number;
  negativeCacheSec: number;
  /** Default 10 000: about 10 MB with typical answers. */
  maxEntries?: number;
  /** Milliseconds (default Date.now). */
  now?: () => number;
}

export const INTROSPECTION_CACHE_ENTRIES = 10_000;

/** How long `answer` may be reused, in ms (0: not at all). */
function lifetimeMs(answer: Claims, options: IntrospectionCacheOptions, nowMs: number): number {
  if (answer.active !== true) return options.negativeCacheSec * 1000;
  const max = options.cacheSec * 1000;
  return typeof answer.exp === "number" ? Math.min(max, answer.exp * 1000 - nowMs) : max;
}

export function cachedIntrospection(
  introspect: Introspect,
  options: IntrospectionCacheOptions,
): Introspect {
  const now = options.now ?? Date.now;
  const answers = new Lru<string, { answer: Claims; until: number }>(
    options.maxEntries ?? INTROSPECTION_CACHE_ENTRIES,
  );
  const pending = new Map<string, Promise<Claims>>();

  return (token) => {
    const key = tokenKey(token);
    const cached = answers.get(key);
    if (cached && cached.until > now()) return Promise.resolve(cached.answer);
    if (cached) answers.delete(key);
    const running = pending.get(key);
    if (running) return running;
    const call = introspect(token)
      .then((answer) => {
        const at = now();
        const lifetime = lifetimeMs(answer, options, at);
        if (lifetime > 0) answers.set(key, { answer, until: at + lifetime });
        return answer;
      })
      .finally(() => pending.delete(key));
    pending.set(key, call);
    return call;
  };
}
