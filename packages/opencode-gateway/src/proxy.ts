import { limitBody } from "./body-limit.js";
import { describeError } from "./error-cause.js";
import { type ClientView, setForwarding } from "./forwarded.js";
import type { FetchLike } from "./jwks.js";
import type { Logger } from "./log.js";
import type { Claims } from "./verify-token.js";

/**
 * Forwards an authenticated `/v1/*` request to the upstream's base URL and streams the answer
 * back as it arrives (SSE chunks are piped, never buffered). The user's Authorization header
 * never leaves the gateway: it is removed, and the upstream's own `apiKey` is set when there is
 * one. Hop-by-hop headers (RFC 9110 §7.6.1, `Expect` among them), Host, Cookie, a client-sent
 * `subjectHeader` and every client-sent forwarding header are dropped, and the gateway's own
 * X-Forwarded-* are set (forwarded.ts); everything else passes. The body is streamed through
 * the size limit (body-limit.ts).
 */

export interface ProxyOptions {
  /** The upstream's OpenAI base URL, without a trailing slash (`http://vllm:8000/v1`). */
  baseURL: string;
  apiKey?: string | undefined;
  headersTimeoutMs: number;
  subjectHeader?: string | undefined;
  maxBodyBytes: number;
  fetch?: FetchLike | undefined;
  logger: Logger;
}

/** What the proxy needs to know about the connection the request came on. */
export interface ProxyContext {
  client: ClientView;
  /** Called right before the body is read (sends `100 Continue` when the client waits for it). */
  beforeBody?: () => void;
}

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
];

/** Removes hop-by-hop headers, including those the Connection header names. */
function withoutHopByHop(source: Headers): Headers {
  const headers = new Headers(source);
  const named = (source.get("connection") ?? "").split(",").map((h) => h.trim().toLowerCase());
  for (const name of [...HOP_BY_HOP, ...named]) if (name) headers.delete(name);
  return headers;
}

function upstreamHeaders(
  request: Request,
  options: ProxyOptions,
  claims: Claims,
  client: ClientView,
): Headers {
  const headers = withoutHopByHop(request.headers);
  for (const name of ["host", "authorization", "cookie"]) headers.delete(name);
  setForwarding(headers, client);
  // Compressed answers would be decoded by fetch and re-sent with a stale Content-Encoding.
  headers.set("accept-encoding", "identity");
  if (options.apiKey) headers.set("authorization", `Bearer ${options.apiKey}`);
  if (options.subjectHeader) {
    headers.delete(options.subjectHeader);
    if (typeof claims.sub === "string") headers.set(options.subjectHeader, claims.sub);
  }
  return headers;
}

function clientHeaders(upstream: Response): Headers {
  const headers = withoutHopByHop(upstream.headers);
  if (headers.has("content-encoding")) {
    headers.delete("content-encoding");
    headers.delete("content-length");
  }
  return headers;
}

const openAiError = (status: number, message: string, code: string, type = "upstream_error") =>
  Response.json({ error: { message, type, code } }, { status });

/** The answer for a body over the limit; also used before the body is read. */
export const bodyTooLarge = (maxBytes: number): Response =>
  openAiError(
    413,
    `the request body is larger than this gateway accepts (${maxBytes} bytes)`,
    "body_too_large",
    "invalid_request_error",
  );

export function createProxy(
  options: ProxyOptions,
): (request: Request, claims: Claims, context: ProxyContext) => Promise<Response> {
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));

  return async (request, claims, context) => {
    const url = new URL(request.url);
    const target = `${options.baseURL}${url.pathname.replace(/^\/v1/, "")}${url.search}`;
    const limited =
      request.body && request.method !== "GET" && request.method !== "HEAD"
        ? limitBody(request.body, options.maxBodyBytes)
        : undefined;
    const timer = new AbortController();
    const timeout = setTimeout(
      () => timer.abort(new DOMException("upstream headers timeout", "TimeoutError")),
      options.headersTimeoutMs,
    );
    let upstream: Response;
    try {
      if (limited) context.beforeBody?.();
      upstream = await fetchImpl(target, {
        method: request.method,
        headers: upstreamHeaders(request, options, claims, context.client),
        ...(limited ? { body: limited.body, duplex: "half" } : {}),
        redirect: "manual",
        // Ends the upstream request when the client goes away, or on the headers timeout.
        signal: AbortSignal.any([request.signal, timer.signal]),
      } as RequestInit);
    } catch (error) {
      if (limited?.exceeded()) {
        options.logger.emit("gateway_request_refused", {
          method: request.method,
          path: url.pathname,
          status: 413,
          reason: "body_too_large",
          maxBodyBytes: options.maxBodyBytes,
        });
        return bodyTooLarge(options.maxBodyBytes);
      }
      if (timer.signal.aborted) {
        options.logger.emit("gateway_upstream_timeout", {
          path: url.pathname,
          timeoutMs: options.headersTimeoutMs,
        });
        return openAiError(504, "the model server did not answer in time", "upstream_timeout");
      }
      if (request.signal.aborted) return openAiError(499, "client closed request", "aborted");
      options.logger.emit("gateway_upstream_unreachable", {
        path: url.pathname,
        upstream: new URL(target).origin,
        ...describeError(error),
      });
      return openAiError(502, "the model server cannot be reached", "upstream_unreachable");
    } finally {
      clearTimeout(timeout);
    }
    return new Response(upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: clientHeaders(upstream),
    });
  };
}
