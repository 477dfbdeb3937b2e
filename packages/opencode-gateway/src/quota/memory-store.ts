import { Lru } from "../lru.js";
import { type QuotaStore, windowEnd } from "./store.js";

/**
 * Counters in this process: right for one instance, and what each replica falls back to when
 * no Redis is configured (each then grants the full quota on its own). At most `maxKeys`
 * counters are kept; the least recently used is dropped, which hands its owner a fresh window.
 */
export function memoryQuotaStore(options: { maxKeys: number; now?: () => number }): QuotaStore {
  const now = options.now ?? Date.now;
  const counters = new Lru<string, { used: number; resetAt: number }>(options.maxKeys);
  const current = (key: string, windowMs: number, at: number) => {
    const entry = counters.get(key);
    if (entry && entry.resetAt > at) return entry;
    const fresh = { used: 0, resetAt: windowEnd(at, windowMs) };
    counters.set(key, fresh);
    return fresh;
  };

  return {
    async take(list) {
      const at = now();
      const entries = list.map((c) => current(c.key, c.windowMs, at));
      const admitted = list.every(
        (c, i) => (entries[i]?.used ?? 0) + Math.max(c.cost, 1) <= c.limit,
      );
      if (admitted) {
        list.forEach((c, i) => {
          (entries[i] as { used: number }).used += c.cost;
        });
      }
      return {
        admitted,
        states: entries.map((e) => ({ used: e.used, resetMs: e.resetAt - at })),
      };
    },
    async add(list) {
      const at = now();
      for (const { key, amount, windowMs } of list) current(key, windowMs, at).used += amount;
    },
    async open() {},
    async close() {},
  };
}
