import type { FetchLike } from "./jwks.js";
import type { Logger } from "./log.js";
import type { Claims } from "./verify-token.js";

/**
 * Forwards an authenticated `/v1/*` request to the upstream's base URL and streams the answer
 * back as it arrives (SSE chunks are piped, never buffered). The user's Authorization header
 * never leaves the gateway: it is removed, and the upstream's own `apiKey` is set when there is
 * one. Hop-by-hop headers (RFC 9110 §7.6.1), Host, Cookie and a client-sent `subjectHeader` are
 * dropped; everything else passes.
 */

export interface ProxyOptions {
  /** The upstream's OpenAI base URL, without a trailing slash (`http://vllm:8000/v1`). */
  baseURL: string;
  apiKey?: string | undefined;
  headersTimeoutMs: number;
  subjectHeader?: string | undefined;
  fetch?: FetchLike | undefined;
  logger: Logger;
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
];

/** Removes hop-by-hop headers, including those the Connection header names. */
function withoutHopByHop(source: Headers): Headers {
  const headers = new Headers(source);
  const named = (source.get("connection") ?? "").split(",").map((h) => h.trim().toLowerCase());
  for (const name of [...HOP_BY_HOP, ...named]) if (name) headers.delete(name);
  return headers;
}

function upstreamHeaders(request: Request, options: ProxyOptions, claims: Claims): Headers {
  const headers = withoutHopByHop(request.headers);
  for (const name of ["host", "authorization", "cookie"]) headers.delete(name);
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

const openAiError = (status: number, message: string, code: string) =>
  Response.json({ error: { message, type: "upstream_error", code } }, { status });

export function createProxy(
  options: ProxyOptions,
): (request: Request, claims: Claims) => Promise<Response> {
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));

  return async (request, claims) => {
    const url = new URL(request.url);
    const target = `${options.baseURL}${url.pathname.replace(/^\/v1/, "")}${url.search}`;
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const timer = new AbortController();
    const timeout = setTimeout(
      () => timer.abort(new DOMException("upstream headers timeout", "TimeoutError")),
      options.headersTimeoutMs,
    );
    let upstream: Response;
    try {
      upstream = await fetchImpl(target, {
        method: request.method,
        headers: upstreamHeaders(request, options, claims),
        ...(hasBody ? { body: request.body, duplex: "half" } : {}),
        redirect: "manual",
        // Ends the upstream request when the client goes away, or on the headers timeout.
        signal: AbortSignal.any([request.signal, timer.signal]),
      } as RequestInit);
    } catch (error) {
      if (timer.signal.aborted) {
        options.logger.warn("upstream_timeout", { path: url.pathname });
        return openAiError(504, "the model server did not answer in time", "upstream_timeout");
      }
      if (request.signal.aborted) return openAiError(499, "client closed request", "aborted");
      options.logger.error("upstream_unreachable", { path: url.pathname, reason: String(error) });
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
