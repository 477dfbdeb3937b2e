import {
  type ClientRequest,
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type RequestOptions,
} from "node:http";
import { request as httpsRequest } from "node:https";
import { proxyFor, type TransportError } from "@vymalo/oauth2-core";
import { type ClientView, isForwardingHeader, setForwarding } from "../forwarded.js";
import type { Logger } from "../log.js";
import type { Claims } from "../verify-token.js";
import { directRoute, type UpstreamRoute, upstreamTrust } from "./upstream-route.js";

/**
 * The model server, as the request path calls it: one keep-alive agent per gateway (so a request
 * reuses a warm connection instead of opening one), Node's own `http`/`https` client, and the
 * headers it is sent. The user's Authorization header never leaves the gateway: it is removed,
 * and the upstream's own `apiKey` is set when there is one. Hop-by-hop headers (RFC 9110
 * §7.6.1, `Expect` among them, and any header `Connection` names), Host, Cookie, a client-sent
 * `subjectHeader` and every client-sent forwarding header are dropped, and the gateway's own
 * X-Forwarded-* are set (forwarded.ts); everything else passes.
 */

export interface UpstreamOptions {
  /** The upstream's OpenAI base URL (`http://vllm:8000/v1`). */
  baseURL: string;
  apiKey?: string | undefined;
  subjectHeader?: string | undefined;
  /** Where the proxy variables are read (upstream-route.ts). Default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
  /** The model server's TLS (`upstream.tls` in the config). */
  tls?: { caFile?: string | undefined } | undefined;
  /** Gets `gateway_upstream_route` once, when the upstream is set up. */
  logger?: Logger | undefined;
}

const HOP_BY_HOP = new Set([
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
]);
/** Never forwarded upstream: the hop-by-hop headers and these (the forwarding ones aside). */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, "host", "authorization", "cookie", "content-length"]);

/** The header names a `Connection` header lists (they are hop-by-hop too). */
function connectionNamed(value: string | string[] | undefined): Set<string> | undefined {
  // What nearly every request and answer says: nothing to parse.
  if (value === undefined || value === "keep-alive" || value === "close") return undefined;
  const names = (Array.isArray(value) ? value.join(",") : value)
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name && name !== "close" && name !== "keep-alive");
  return names.length > 0 ? new Set(names) : undefined;
}

/** The answer's headers for the client: all but the hop-by-hop ones. */
export function clientHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionNamed(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out[name] = headers[name];
  }
  return out;
}

export interface Upstream {
  /** Starts a request to `<baseURL><rest>` (`rest`: what follows `/v1` in the client's target). */
  request: (method: string, rest: string, headers: OutgoingHttpHeaders) => ClientRequest;
  /** The headers the upstream gets for a client request (`length`: the body's, when known). */
  headers(
    incoming: IncomingHttpHeaders,
    claims: Claims,
    client: ClientView,
    length: number | undefined,
  ): OutgoingHttpHeaders;
  /** The upstream's origin, for the log. */
  readonly origin: string;
  /** A failed request's error, when the proxy on the way caused it (upstream-route.ts). */
  proxyFailure(error: unknown): TransportError | undefined;
  /**
   * Reads `tls.caFile` and loads the proxy agent when a proxy applies, then sets up the route;
   * direct and without TLS files, the upstream is ready when made. Rejects with an error naming
   * the field or variable (a missing or non-PEM file, a proxy variable that is no http URL).
   */
  ready(): Promise<void>;
  /** Closes the idle keep-alive connections. */
  close(): void;
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const base = new URL(options.baseURL);
  const secure = base.protocol === "https:";
  const prefix = base.pathname.replace(/\/+$/, "");
  const send = secure ? httpsRequest : httpRequest;
  const subject = options.subjectHeader?.toLowerCase();
  const apiKey = options.apiKey ? `Bearer ${options.apiKey}` : undefined;
  const hostname = base.hostname.replace(/^\[(.*)\]$/, "$1");
  const caFile = options.tls?.caFile;
  const decided = proxyFor(base, options.env ?? process.env);
  let route: UpstreamRoute | undefined;

  const upstream: Upstream = {
    origin: base.origin,
    request: () => {
      throw new Error("the upstream is not ready: await its ready() before the first request");
    },
    proxyFailure: (error) => route?.proxyFailure(error),
    async ready() {
      if (route) return;
      const trust = caFile ? await upstreamTrust(caFile) : undefined;
      if (!decided.proxy) return use(directRoute(base, decided, trust));
      // Loaded on first need: a gateway without a proxy never loads the proxy agent.
      const { proxiedRoute } = await import("./upstream-proxy-agent.js");
      use(proxiedRoute(base, { ...decided, proxy: decided.proxy }, trust));
    },
    headers(incoming, claims, client, length) {
      const named = connectionNamed(incoming.connection);
      const out: OutgoingHttpHeaders = {};
      for (const name in incoming) {
        if (NOT_FORWARDED.has(name) || name === subject) continue;
        if (named?.has(name) || isForwardingHeader(name)) continue;
        out[name] = incoming[name];
      }
      setForwarding(out, client);
      // The answer is relayed as it comes: a compressed one would reach the client compressed,
      // and the gateway could not read its usage.
      out["accept-encoding"] = "identity";
      if (length !== undefined) out["content-length"] = length;
      else if (incoming["transfer-encoding"] !== undefined) out["transfer-encoding"] = "chunked";
      if (apiKey) out.authorization = apiKey;
      if (subject && typeof claims.sub === "string") out[subject] = claims.sub;
      return out;
    },
    close: () => route?.agent.destroy(),
  };

  function use(chosen: UpstreamRoute): void {
    route = chosen;
    options.logger?.emit("gateway_upstream_route", { upstream: base.origin, ...chosen.fields });
    const { agent, watch } = chosen;
    const target = (
      method: string,
      rest: string,
      headers: OutgoingHttpHeaders,
    ): RequestOptions => ({
      agent,
      protocol: base.protocol,
      hostname,
      port: base.port,
      method,
      path: `${prefix}${rest}`,
      headers,
    });
    // Chosen once: the direct route's request is the plain call, with nothing added.
    upstream.request = watch
      ? (method, rest, headers) => {
          const request = send(target(method, rest, headers));
          watch(request);
          return request;
        }
      : (method, rest, headers) => send(target(method, rest, headers));
  }
  // Direct and without TLS files to read, the upstream is ready at once.
  if (!decided.proxy && !caFile) use(directRoute(base, decided, undefined));
  return upstream;
}
