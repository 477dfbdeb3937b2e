/**
 * Where quota counters live: in this process (memory-store.ts) or in a Redis that every replica
 * shares (redis-store.ts). Both count in fixed windows aligned to the clock — a minute counter
 * resets on the minute, a day counter at 00:00 UTC — so every replica agrees when a window ends
 * without talking to the others. A window's counter is created by its first use and expires
 * when the window ends.
 */

export interface Counter {
  /** The counter's name under the store's prefix, e.g. `u:alice:rpm`. */
  key: string;
  limit: number;
  windowMs: number;
  /** What this call adds now: 1 for a request counter, 0 for a token counter (tokens come later). */
  cost: number;
}

export interface CounterState {
  /** Spent in the current window, this call included when it was admitted. */
  used: number;
  /** Until the window ends. */
  resetMs: number;
}

export interface TakeResult {
  /** Whether every counter had room; only then were the costs added. */
  admitted: boolean;
  /** One per counter, in order. */
  states: CounterState[];
}

export interface QuotaStore {
  /**
   * Atomically: checks that every counter has room (`used + max(cost, 1) <= limit`, so a spent
   * token counter refuses), and only then adds each cost.
   */
  take(counters: readonly Counter[]): Promise<TakeResult>;
  /** Adds `amount` to each counter in its current window (tokens, once the answer is known). */
  add(entries: ReadonlyArray<{ key: string; amount: number; windowMs: number }>): Promise<void>;
  /** Prepares the store (connects to Redis) before the first call; never rejects. */
  open(): Promise<void>;
  close(): Promise<void>;
}

/** The end of the window `now` is in, for windows aligned to the Unix epoch (UTC). */
export const windowEnd = (nowMs: number, windowMs: number): number =>
  (Math.floor(nowMs / windowMs) + 1) * windowMs;
