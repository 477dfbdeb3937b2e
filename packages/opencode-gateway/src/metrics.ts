import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { Answered, Usage } from "./v1/hooks.js";

/**
 * The gateway's Prometheus metrics, in a registry of their own (one per gateway, so two in one
 * process do not mix). Every label takes its value from a closed set — routes the gateway knows,
 * the configured model ids, the token check's reason codes — so no client can grow the series
 * without bound by sending odd paths or model names. Who used what is never a label: per-user
 * figures go to the `gateway_usage_recorded` log event.
 */

/** Routes with a label of their own; any other path under /v1 is `other`. */
const ROUTES = [
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/embeddings",
  "/v1/responses",
  "/v1/models",
  "/v1/models-info",
];
const MODEL_ROUTE = /^\/v1\/models\/[^/]+$/;

/** The token check's outcomes: `ok`, or a refusal's reason code (docs/gateway.md#answers). */
const AUTH_OUTCOMES = new Set([
  "ok",
  "missing",
  "not_bearer",
  "malformed_header",
  "too_long",
  "malformed",
  "alg_not_allowed",
  "unknown_key",
  "bad_signature",
  "wrong_issuer",
  "wrong_audience",
  "expired",
  "no_expiry",
  "not_yet_valid",
  "issued_in_future",
  "wrong_token_type",
  "id_token",
  "not_a_jwt",
  "inactive",
  "not_an_access_token",
  "no_client",
  "client_not_allowed",
  "missing_scope",
  "group_not_allowed",
  // certificate-binding.ts
  "certificate_mismatch",
  "certificate_missing",
  "token_not_bound",
  "keys_unavailable",
  "introspection_unavailable",
]);

export interface GatewayMetrics {
  readonly registry: Registry;
  /** One answered `/v1` request. */
  request(answered: Answered): void;
  /** One upstream call: from sending it to the last byte of the answer. */
  upstream(path: string, model: string | undefined, ms: number, status: number): void;
  /** Tokens the upstream reported for `model`. */
  tokens(model: string | undefined, usage: Usage): void;
  quotaRefused(scope: "user" | "group", kind: "requests" | "tokens"): void;
  quotaStoreFailed(operation: "take" | "add"): void;
}

export const routeLabel = (path: string): string =>
  ROUTES.includes(path) ? path : MODEL_ROUTE.test(path) ? "/v1/models/{id}" : "other";

export function createMetrics(options: { models: readonly string[] }): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const known = new Set(options.models);
  const modelLabel = (model: string | undefined) =>
    model === undefined ? "none" : known.has(model) ? model : "other";

  const requests = new Counter({
    name: "opencode_gateway_requests_total",
    help: "Answered /v1 requests, by route, status, model and the outcome of the token check.",
    labelNames: ["route", "status", "model", "auth"] as const,
    registers: [registry],
  });
  const upstreamSeconds = new Histogram({
    name: "opencode_gateway_upstream_duration_seconds",
    help: "Upstream calls, from sending the request to the last byte of the answer.",
    labelNames: ["route", "model", "status"] as const,
    // From a cached model list to a long completion.
    buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  const tokens = new Counter({
    name: "opencode_gateway_tokens_total",
    help: "Tokens the upstream reported in usage, by model and kind (prompt or completion).",
    labelNames: ["model", "kind"] as const,
    registers: [registry],
  });
  const quotaRefusals = new Counter({
    name: "opencode_gateway_quota_refusals_total",
    help: "Calls refused with 429, by whose limit (user or group) and which (requests or tokens).",
    labelNames: ["scope", "limit"] as const,
    registers: [registry],
  });
  const storeFailures = new Counter({
    name: "opencode_gateway_quota_store_failures_total",
    help: "Quota store (Redis) calls that failed; the quota's failMode applied to each.",
    labelNames: ["operation"] as const,
    registers: [registry],
  });

  return {
    registry,
    request({ path, status, model, auth }) {
      requests.inc({
        route: routeLabel(path),
        status: String(status),
        model: modelLabel(model),
        auth: AUTH_OUTCOMES.has(auth) || auth === "none" ? auth : "other",
      });
    },
    upstream(path, model, ms, status) {
      upstreamSeconds.observe(
        { route: routeLabel(path), model: modelLabel(model), status: String(status) },
        ms / 1000,
      );
    },
    tokens(model, usage) {
      const label = modelLabel(model);
      if (usage.promptTokens > 0) tokens.inc({ model: label, kind: "prompt" }, usage.promptTokens);
      if (usage.completionTokens > 0) {
        tokens.inc({ model: label, kind: "completion" }, usage.completionTokens);
      }
    },
    quotaRefused(scope, kind) {
      quotaRefusals.inc({ scope, limit: kind });
    },
    quotaStoreFailed(operation) {
      storeFailures.inc({ operation });
    },
  };
}
