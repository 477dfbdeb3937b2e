/**
 * Promises shared between callers in one process. opencode loads two plugins (and sometimes two
 * installs of this module) into one process; renewals, discovery documents and the local config
 * read are each worth doing once for all of them.
 */

/**
 * A Map kept on globalThis under `Symbol.for(name)`, so every copy of this module in the process
 * sees the same one. `name` is versioned by its caller (`…@1`) so that an incompatible future
 * copy does not read entries of another shape.
 */
export function processWideMap<V>(name: string): Map<string, V> {
  const key = Symbol.for(name);
  const scope = globalThis as { [key: symbol]: Map<string, V> | undefined };
  scope[key] ??= new Map();
  return scope[key];
}

/** `start()`, unless a call under the same key is still pending: then that call's promise. */
export function singleFlight<T>(
  inflight: Map<string, Promise<T>>,
  key: string,
  start: () => Promise<T>,
): Promise<T> {
  const existing = inflight.get(key);
  if (existing) return existing;
  const started = start().finally(() => inflight.delete(key));
  inflight.set(key, started);
  return started;
}

/**
 * `start()` once per key, its promise kept for later callers; a rejected one is forgotten, so the
 * next caller tries again instead of inheriting a transient failure.
 */
export function memoizeUntilRejected<T>(
  cache: Map<string, Promise<T>>,
  key: string,
  start: () => Promise<T>,
): Promise<T> {
  const existing = cache.get(key);
  if (existing) return existing;
  const started = start();
  cache.set(key, started);
  started.catch(() => cache.delete(key));
  return started;
}
