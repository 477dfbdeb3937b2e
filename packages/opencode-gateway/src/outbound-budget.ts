/**
 * How many calls to the IdP the gateway may make, per reason, whatever its clients send. Each
 * reason has a token bucket: `burst` calls at once, refilled at `perSec`. A call over budget is
 * not made; it fails at once with {@link OutboundBudgetExceeded}, which the callers turn into a
 * 503 (or, for keys, into the last good key set). This is what keeps a flood of junk tokens, or
 * an IdP outage, from becoming one outbound request per inbound request.
 */

export type OutboundReason = "introspection" | "discovery" | "jwks";

export interface BucketLimit {
  /** Calls that may be made at once after a quiet period. */
  burst: number;
  /** Calls regained per second. */
  perSec: number;
}

/**
 * Discovery happens once per instance and the JWKS every 10 minutes or on a key rotation, so a
 * few calls and one every 10 s are plenty; more only happen while something is wrong.
 */
export const KEY_FETCH_LIMITS: Record<"discovery" | "jwks", BucketLimit> = {
  discovery: { burst: 2, perSec: 0.1 },
  jwks: { burst: 3, perSec: 0.1 },
};

export class OutboundBudgetExceeded extends Error {
  readonly reason: OutboundReason;
  constructor(reason: OutboundReason) {
    super(`too many ${reason} calls to the IdP right now; not calling it again yet`);
    this.name = "OutboundBudgetExceeded";
    this.reason = reason;
  }
}

export interface OutboundBudget {
  /** Spends one call for `reason`; false when the budget is used up (then make no call). */
  take(reason: OutboundReason): boolean;
  /** `call` that spends one call each time, and rejects with OutboundBudgetExceeded when none is left. */
  guard<A extends unknown[], R>(
    reason: OutboundReason,
    call: (...args: A) => Promise<R>,
  ): (...args: A) => Promise<R>;
}

export interface OutboundBudgetOptions {
  limits: Partial<Record<OutboundReason, BucketLimit>>;
  /** Milliseconds (default Date.now). */
  now?: () => number;
  /** Called once when a reason starts being refused, again only after a call went through. */
  onExhausted?: (reason: OutboundReason, limit: BucketLimit) => void;
}

export function createOutboundBudget(options: OutboundBudgetOptions): OutboundBudget {
  const now = options.now ?? Date.now;
  const buckets = new Map<OutboundReason, { tokens: number; at: number; refusing: boolean }>();

  const take = (reason: OutboundReason): boolean => {
    const limit = options.limits[reason];
    if (!limit) return true;
    const t = now();
    const bucket = buckets.get(reason) ?? { tokens: limit.burst, at: t, refusing: false };
    buckets.set(reason, bucket);
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((t - bucket.at) / 1000) * limit.perSec);
    bucket.at = t;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.refusing = false;
      return true;
    }
    if (!bucket.refusing) options.onExhausted?.(reason, limit);
    bucket.refusing = true;
    return false;
  };

  return {
    take,
    guard:
      (reason, call) =>
      (...args) =>
        take(reason) ? call(...args) : Promise.reject(new OutboundBudgetExceeded(reason)),
  };
}
