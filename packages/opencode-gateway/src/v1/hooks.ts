import type { Claims } from "../verify-token.js";

/**
 * The seam between the `/v1/*` request path (the proxy) and what decides about a call beyond the
 * token: model access, quotas, metrics. The request path reads the token, the body's `model` and
 * `stream`, then asks {@link V1Hooks.admit}; after the answer has been relayed (or has failed) it
 * reports {@link V1Hooks.settle} once, with the upstream's status, latency and `usage`.
 * The hooks never see the token, the body or the upstream's bytes.
 */

export interface V1Call {
  /** The verified token's claims. */
  claims: Claims;
  /** The token's `sub` when it is a string. */
  subject: string | undefined;
  /** The request path without the query, e.g. `/v1/chat/completions`. */
  route: string;
  /** The request method, upper case. */
  method: string;
  /** The JSON body's top-level `model` when it is a string (undefined: no JSON body or none). */
  model: string | undefined;
  /** The JSON body's top-level `stream === true`. */
  stream: boolean;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** An answer the gateway gives instead of calling the upstream (403 model, 429 quota, …). */
export interface Refusal {
  status: number;
  headers?: Record<string, string>;
  body: { error: { message: string; type: string; code?: string } };
}

/** An admitted call, with extra headers for the client's answer (`RateLimit-*`). */
export interface Admission {
  status?: undefined;
  headers: Record<string, string>;
}

export interface Outcome {
  /** The status the client got (the upstream's, or the gateway's 413/499/502/504). */
  status: number;
  /** From sending the request to the upstream's last byte (or the failure). */
  upstreamMs: number;
  /** The upstream's `usage`, when its answer (or its final SSE chunk) carried one. */
  usage: Usage | undefined;
  /** The client went away before the answer was complete (the upstream call was aborted). */
  aborted: boolean;
}

/** An answered `/v1` request, also one refused before `admit` (for metrics). */
export interface Answered {
  method: string;
  /** The request path without the query. */
  path: string;
  /** The status the client got (499: it went away first). */
  status: number;
  /** The body's `model`, when it was read. */
  model: string | undefined;
  /** The token check: `ok`, the refusal's reason code, or `none` (answered before it). */
  auth: string;
}

export interface V1Hooks {
  /**
   * Before the upstream is called (after the token check and the body's `model` is read).
   * Return a {@link Refusal} to answer instead of the upstream, an {@link Admission} to add
   * response headers, or undefined to admit as is. A throw answers 500 and is logged.
   */
  admit?(call: V1Call): Refusal | Admission | undefined | Promise<Refusal | Admission | undefined>;
  /**
   * After the answer has been relayed (or failed), once per admitted call. It must not throw
   * (a throw is logged and swallowed).
   */
  settle?(call: V1Call, outcome: Outcome): void;
  /**
   * Whether usage is needed: then a streaming request whose client did not ask for
   * `stream_options.include_usage` gets it added, and the usage-only chunk the client did not
   * ask for is removed from what the client receives.
   */
  wantsUsage?: boolean;
  /**
   * Paths under `/v1` the gateway answers itself on its Hono app instead of proxying (e.g.
   * `/v1/models` when the list is filtered per caller). `/v1/models-info` always is.
   */
  ownPaths?: readonly string[];
  /** Once per answered request, when its answer is done. It must not throw. */
  observe?(answered: Answered): void;
}

export const isRefusal = (result: Refusal | Admission | undefined): result is Refusal =>
  typeof result?.status === "number";
