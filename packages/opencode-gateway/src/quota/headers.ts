import type { Counter, CounterState } from "./store.js";

/**
 * The rate-limit answer headers, in the shape of draft-ietf-httpapi-ratelimit-headers-06:
 * `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (delta seconds) describe the
 * one limit closest to running out — when several apply, the draft says to pick that one — and
 * `RateLimit-Policy` lists every limit that applies as `<limit>;w=<window seconds>`, with a
 * `comment` saying whose limit and of what (the draft lets extra parameters be comments).
 */

export interface CounterView {
  counter: Counter;
  state: CounterState;
  /** For the policy's comment, e.g. `user requests`, `group /interns tokens`. */
  label: string;
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
const remaining = (v: CounterView) => Math.max(0, v.counter.limit - v.state.used);
const quoted = (text: string) => `"${text.replace(/["\\]/g, "").replace(/[^\x20-\x7e]/g, "?")}"`;

/** Whether this counter stopped the call (the same rule as the stores' take). */
export const isSpent = (v: CounterView): boolean =>
  v.state.used + Math.max(v.counter.cost, 1) > v.counter.limit;

export function rateLimitHeaders(views: readonly CounterView[]): Record<string, string> {
  if (views.length === 0) return {};
  const spent = views.filter(isSpent);
  // Refused: the spent limit that frees up last is the one to wait for. Admitted: the limit
  // with the smallest share left.
  const shown = (
    spent.length > 0
      ? spent.reduce((a, b) => (b.state.resetMs > a.state.resetMs ? b : a))
      : views.reduce((a, b) =>
          remaining(b) / b.counter.limit < remaining(a) / a.counter.limit ? b : a,
        )
  ) as CounterView;
  return {
    "ratelimit-limit": String(shown.counter.limit),
    "ratelimit-remaining": String(remaining(shown)),
    "ratelimit-reset": String(seconds(shown.state.resetMs)),
    "ratelimit-policy": views
      .map((v) => `${v.counter.limit};w=${v.counter.windowMs / 1000};comment=${quoted(v.label)}`)
      .join(", "),
    ...(spent.length > 0 ? { "retry-after": String(seconds(shown.state.resetMs)) } : {}),
  };
}
