import { createModelAccess, type ModelAccess } from "./access.js";
import type { GatewayConfig } from "./config.js";
import type { Logger } from "./log.js";
import type { GatewayMetrics } from "./metrics.js";
import type { MetricsListener } from "./metrics-server.js";
import { memoryQuotaStore } from "./quota/memory-store.js";
import { createQuota, type Quota } from "./quota/quota.js";
import { redisQuotaStore } from "./quota/redis-store.js";
import type { Answered, V1Hooks } from "./v1/hooks.js";

/**
 * What the gateway decides about a `/v1` call beyond the token, built from the config's
 * `access`, `quota` and `metrics` sections and handed to the request path as its hooks: model
 * access first (a call for a model the caller may not use is refused before it counts against
 * a quota), then the quota; once the answer is done, tokens are charged, metrics recorded and
 * the per-user figures logged (`gateway_usage_recorded`). prom-client and the Redis client are
 * loaded only when their section is configured (the Redis client alone is ~20 MB of RSS).
 */

export interface CallPolicy {
  readonly hooks: V1Hooks;
  /** Present when `access` is configured: the caller's model list and models-info. */
  readonly access: ModelAccess | undefined;
  /** Connects the quota store, loads the metrics and starts their listener (as configured). */
  start(): Promise<{ metricsUrl?: string }>;
  /** Every answered `/v1` request, also those refused before the hooks ran. */
  observe(answered: Answered): void;
  /** Scopes a client may need here, for the protected-resource metadata. */
  readonly scopes: string[];
  close(): Promise<void>;
}

export interface CallPolicyDeps {
  logger: Logger;
  /** The `WWW-Authenticate` value for a 403 a scope would lift (auth.ts writes every challenge). */
  challenge: (scope: string, description: string) => string;
}

export function createCallPolicy(config: GatewayConfig, deps: CallPolicyDeps): CallPolicy {
  const { logger } = deps;
  const access = config.access
    ? createModelAccess({
        access: config.access,
        groupsClaim: config.groupsClaim,
        models: config.models,
        owner: config.providerId,
        challenge: deps.challenge,
      })
    : undefined;
  // Set by start(), before the first request can arrive.
  let metrics: GatewayMetrics | undefined;
  let metricsListener: MetricsListener | undefined;
  const quota: Quota | undefined = config.quota
    ? createQuota({
        config: config.quota,
        groupsClaim: config.groupsClaim,
        clientClaims: config.clientClaims,
        store: config.quota.redis
          ? redisQuotaStore({
              url: config.quota.redis,
              prefix: config.quota.keyPrefix,
              timeoutMs: config.quota.redisTimeoutMs,
            })
          : memoryQuotaStore({ maxKeys: config.quota.maxTrackedKeys }),
        storeName: config.quota.redis ? "redis" : "memory",
        logger,
        observer: {
          refused: (scope, kind) => metrics?.quotaRefused(scope, kind),
          storeFailed: (operation) => metrics?.quotaStoreFailed(operation),
        },
      })
    : undefined;
  const clientOf = (claims: Record<string, unknown>) =>
    config.clientClaims.map((name) => claims[name]).find((v) => typeof v === "string") as
      | string
      | undefined;

  const admit: V1Hooks["admit"] = async (call) => {
    const refused = access?.admit(call);
    if (refused) {
      logger.emit("gateway_model_refused", {
        method: call.method,
        path: call.route,
        ...(call.subject ? { sub: call.subject } : {}),
        ...(call.model === undefined ? {} : { model: call.model }),
      });
      return refused;
    }
    return quota?.admit(call);
  };
  const settle: V1Hooks["settle"] = (call, outcome) => {
    quota?.settle(call, outcome);
    metrics?.upstream(call.route, call.model, outcome.upstreamMs, outcome.status);
    if (!outcome.usage) return;
    metrics?.tokens(call.model, outcome.usage);
    const client = clientOf(call.claims);
    logger.emit("gateway_usage_recorded", {
      ...(call.subject ? { sub: call.subject } : {}),
      ...(client ? { client } : {}),
      path: call.route,
      ...(call.model === undefined ? {} : { model: call.model }),
      status: outcome.status,
      stream: call.stream,
      aborted: outcome.aborted,
      prompt_tokens: outcome.usage.promptTokens,
      completion_tokens: outcome.usage.completionTokens,
      total_tokens: outcome.usage.totalTokens,
      upstream_ms: outcome.upstreamMs,
    });
  };
  // Only the hooks a section needs: a gateway without access, quota and metrics runs the
  // request path with no hook at all (no await per call, no usage read from the answers).
  const counting = Boolean(quota || config.metrics);
  const hooks: V1Hooks = {
    ...(access || quota ? { admit } : {}),
    ...(counting ? { settle, wantsUsage: true } : {}),
    ...(config.metrics ? { observe: (answered: Answered) => metrics?.request(answered) } : {}),
    ...(access ? { ownPaths: ["/v1/models"] } : {}),
  };

  return {
    hooks,
    access,
    async start() {
      await quota?.open();
      if (!config.metrics || metricsListener) return {};
      const [{ createMetrics }, { createMetricsListener }] = await Promise.all([
        import("./metrics.js"),
        import("./metrics-server.js"),
      ]);
      metrics = createMetrics({ models: config.models.map((m) => m.id) });
      metricsListener = createMetricsListener(config.metrics, metrics, logger);
      const { url } = await metricsListener.start();
      return { metricsUrl: url };
    },
    observe: (answered) => metrics?.request(answered),
    scopes: [...new Set([...config.requiredScopes, ...Object.keys(config.access?.scopes ?? {})])],
    async close() {
      await Promise.all([quota?.close(), metricsListener?.close()]);
    },
  };
}
