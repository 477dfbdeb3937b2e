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

/**
 * `start()`, unless the map already holds a promise under `key`: then that one. The promise is
 * forgotten when it settles (`until: "settled"`: a single flight) or only when it rejects
 * (`until: "rejected"`: a memo that does not keep a transient failure).
 */
function share<T>(
  map: Map<string, Promise<T>>,
  key: string,
  start: () => Promise<T>,
  until: "settled" | "rejected",
): Promise<T> {
  const existing = map.get(key);
  if (existing) return existing;
  const forget = () => map.delete(key);
  const started = until === "settled" ? start().finally(forget) : start();
  if (until === "rejected") started.catch(forget);
  map.set(key, started);
  return started;
}

/** `start()`, unless a call under the same key is still pending: then that call's promise. */
export const singleFlight = <T>(
  inflight: Map<string, Promise<T>>,
  key: string,
  start: () => Promise<T>,
): Promise<T> => share(inflight, key, start, "settled");

/**
 * `start()` once per key, its promise kept for later callers; a rejected one is forgotten, so the
 * next caller tries again instead of inheriting a transient failure.
 */
export const memoizeUntilRejected = <T>(
  cache: Map<string, Promise<T>>,
  key: string,
  start: () => Promise<T>,
): Promise<T> => share(cache, key, start, "rejected");
