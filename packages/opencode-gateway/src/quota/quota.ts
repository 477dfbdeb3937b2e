import { describeError } from "../error-cause.js";
import type { Logger } from "../log.js";
import type { Admission, Outcome, Refusal, V1Call } from "../v1/hooks.js";
import { groupsOf } from "../verify-token.js";
import type { QuotaConfig, QuotaLimits } from "./config.js";
import { type CounterView, isSpent, rateLimitHeaders } from "./headers.js";
import type { Counter, QuotaStore } from "./store.js";

/**
 * Quotas per user and per group, as the two hooks of a `/v1` call: `admit` counts the request
 * and refuses it with 429 when a limit is spent; `settle` adds the tokens the upstream reported.
 * Token limits are checked before a call, with what was spent so far, and charged after it: the
 * call that crosses a token limit finishes, and the next one is refused.
 *
 * A user is the token's `sub`, or its client when it has none (client-credentials tokens). A
 * group limit is shared by every member; a user in several limited groups is counted in each.
 * When the store fails, `failMode` decides: "open" admits uncounted, "closed" answers 503. The
 * first failure and the recovery are logged once each, not once per call.
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

type Scope = "user" | "group";
type Kind = "requests" | "tokens";

interface Planned {
  counter: Counter;
  label: string;
  scope: Scope;
  kind: Kind;
  group?: string;
}

export interface QuotaObserver {
  refused(scope: Scope, kind: Kind): void;
  storeFailed(operation: "take" | "add"): void;
}

export interface QuotaOptions {
  config: QuotaConfig;
  groupsClaim: string;
  clientClaims: readonly string[];
  store: QuotaStore;
  /** `memory` or `redis`, for the log. */
  storeName: string;
  logger: Logger;
  observer?: QuotaObserver;
}

export interface Quota {
  admit(call: V1Call): Promise<Refusal | Admission | undefined>;
  settle(call: V1Call, outcome: Outcome): void;
  open(): Promise<void>;
  close(): Promise<void>;
}

/** Each limit a section may set: its counter's suffix, window and cost at admission. */
const LIMITS = [
  { field: "requestsPerMinute", suffix: "rpm", windowMs: MINUTE_MS, cost: 1, kind: "requests" },
  { field: "tokensPerDay", suffix: "tpd", windowMs: DAY_MS, cost: 0, kind: "tokens" },
] as const;

const planFor = (
  limits: QuotaLimits,
  id: string,
  label: string,
  scope: Scope,
  group?: string,
): Planned[] =>
  LIMITS.flatMap(({ field, suffix, windowMs, cost, kind }) => {
    const limit = limits[field];
    if (limit === undefined) return [];
    const counter = { key: `${id}:${suffix}`, limit, windowMs, cost };
    return [
      {
        counter,
        label: `${label} ${kind}`,
        scope,
        kind,
        ...(group === undefined ? {} : { group }),
      },
    ];
  });

export function createQuota(options: QuotaOptions): Quota {
  const { config, store, logger } = options;
  let failing = false;

  const who = (call: V1Call): string | undefined => {
    if (call.subject) return `u:${call.subject}`;
    const claim = options.clientClaims.find((name) => typeof call.claims[name] === "string");
    return claim ? `c:${call.claims[claim] as string}` : undefined;
  };

  const plan = (call: V1Call): Planned[] => {
    const planned: Planned[] = [];
    const user = who(call);
    if (config.user && user) planned.push(...planFor(config.user, user, "user", "user"));
    for (const group of new Set(groupsOf(call.claims, options.groupsClaim))) {
      const limits = config.groups[group];
      if (limits) planned.push(...planFor(limits, `g:${group}`, `group ${group}`, "group", group));
    }
    return planned;
  };

  const storeFailed = (operation: "take" | "add", error: unknown) => {
    options.observer?.storeFailed(operation);
    if (failing) return;
    failing = true;
    const { detail, error_code } =
      error instanceof Error && "error_code" in error
        ? { detail: error.message, error_code: error.error_code as string | undefined }
        : describeError(error);
    logger.emit("gateway_quota_store_unavailable", {
      store: options.storeName,
      operation,
      failMode: config.failMode,
      ...(error_code ? { error_code } : {}),
      detail,
    });
  };
  const storeWorked = () => {
    if (!failing) return;
    failing = false;
    logger.emit("gateway_quota_store_recovered", { store: options.storeName });
  };

  return {
    async admit(call): Promise<Refusal | Admission | undefined> {
      const planned = plan(call);
      if (planned.length === 0) return undefined;
      let result: Awaited<ReturnType<QuotaStore["take"]>>;
      try {
        result = await store.take(planned.map((p) => p.counter));
        storeWorked();
      } catch (error) {
        storeFailed("take", error);
        if (config.failMode === "open") return undefined;
        return {
          status: 503,
          headers: { "retry-after": "5", "cache-control": "no-store" },
          body: {
            error: {
              message: "usage quotas cannot be checked right now; try again in a few seconds",
              type: "service_unavailable",
              code: "quota_unavailable",
            },
          },
        };
      }
      const views: Array<CounterView & Planned> = planned.map((p, i) => ({
        ...p,
        state: result.states[i] ?? { used: 0, resetMs: p.counter.windowMs },
      }));
      const headers = rateLimitHeaders(views);
      if (result.admitted) return { headers };
      const spent = views.filter(isSpent);
      for (const view of spent) {
        options.observer?.refused(view.scope, view.kind);
        logger.emit("gateway_quota_exceeded", {
          method: call.method,
          path: call.route,
          ...(call.subject ? { sub: call.subject } : {}),
          scope: view.scope,
          ...(view.group ? { group: view.group } : {}),
          limit: view.kind === "requests" ? "requestsPerMinute" : "tokensPerDay",
          max: view.counter.limit,
          retryAfterSec: Number(headers["retry-after"]),
        });
      }
      const first = spent[0] as CounterView & Planned;
      const what =
        first.kind === "requests"
          ? `${first.counter.limit} requests per minute`
          : `${first.counter.limit} tokens per day`;
      return {
        status: 429,
        headers: { ...headers, "cache-control": "no-store" },
        body: {
          error: {
            message: `${first.scope === "user" ? "your" : `the group ${first.group}'s`} limit of ${what} is spent; try again in ${headers["retry-after"]} s`,
            type: first.kind,
            code: "rate_limit_exceeded",
          },
        },
      };
    },
    settle(call, outcome) {
      const tokens = outcome.usage?.totalTokens ?? 0;
      if (tokens <= 0) return;
      const entries = plan(call)
        .filter((p) => p.kind === "tokens")
        .map((p) => ({ key: p.counter.key, amount: tokens, windowMs: p.counter.windowMs }));
      if (entries.length === 0) return;
      store.add(entries).then(storeWorked, (error: unknown) => storeFailed("add", error));
    },
    open: () => store.open(),
    close: () => store.close(),
  };
}
