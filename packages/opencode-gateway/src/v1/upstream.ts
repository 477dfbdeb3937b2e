import type { Readable } from "node:stream";
import { hasTlsFiles, proxyFor, type TransportError } from "@vymalo/oauth2-core";
import { type ClientView, isForwardingHeader, setForwarding } from "../forwarded.js";
import type { Logger } from "../log.js";
import type { Claims } from "../verify-token.js";
import {
  type DispatchHandler,
  directRoute,
  outboundRoute,
  type UpstreamRoute,
  type UpstreamTls,
} from "./upstream-route.js";

/**
 * The model server, as the request path calls it: one keep-alive pool per upstream (so a request
 * reuses a warm connection instead of opening one), undici's `dispatch` (upstream-route.ts), and
 * the headers it is sent. The user's Authorization header never leaves the gateway: it is removed,
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
  /** The model server's TLS (`upstream.tls` in the config): its CA, the gateway's certificate. */
  tls?: UpstreamTls | undefined;
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
/**
 * Never copied upstream: the hop-by-hop headers and these (the forwarding ones aside). Host,
 * Accept-Encoding, Content-Length and Authorization are the gateway's own to set.
 */
const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP,
  "host",
  "authorization",
  "cookie",
  "content-length",
  "accept-encoding",
]);

/** The header names a `Connection` header lists (they are hop-by-hop too), added to `into`. */
function connectionNamed(value: string, into: Set<string> | undefined): Set<string> | undefined {
  // What nearly every request and answer says: nothing to parse.
  if (value === "keep-alive" || value === "close") return into;
  let named = into;
  for (const part of value.split(",")) {
    const name = part.trim().toLowerCase();
    if (!name || name === "close" || name === "keep-alive") continue;
    named ??= new Set();
    named.add(name);
  }
  return named;
}

/** A flat header list (`[name, value, name, value…]`) without the names in `named`. */
function without(headers: string[], named: ReadonlySet<string>): string[] {
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!named.has(headers[i] as string)) kept.push(headers[i] as string, headers[i + 1] as string);
  }
  return kept;
}

/**
 * The answer's headers for the client: all but the hop-by-hop ones (and `dropped`, names in lower
 * case), from the raw list Node read
 * (a repeated header stays repeated). Flat lists, not objects, both ways: Node writes them as
 * they are, without a header object to build and copy on each side of every request.
 */
export function clientHeaders(
  raw: readonly (Buffer | string)[],
  dropped?: ReadonlySet<string>,
): string[] {
  let named: Set<string> | undefined;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    // undici hands over the bytes as read: header text is latin1 (RFC 9110 §5.5).
    const name = latin1(raw[i] as Buffer | string).toLowerCase();
    const value = latin1(raw[i + 1] as Buffer | string);
    if (name === "connection") named = connectionNamed(value, named);
    if (HOP_BY_HOP.has(name) || dropped?.has(name)) continue;
    out.push(name, value);
  }
  return named ? without(out, named) : out;
}

const latin1 = (bytes: Buffer | string): string =>
  typeof bytes === "string" ? bytes : bytes.toString("latin1");

/** One request to the upstream, as the relay sends it. */
export interface UpstreamCall {
  method: string;
  /** What follows `/v1` in the client's request-target. */
  rest: string;
  /** A flat list ({@link Upstream.headers}). */
  headers: readonly string[];
  body: Buffer | Readable | undefined;
  /** undici's wait for the headers once the request is sent; 0 when the caller times it. */
  headersTimeoutMs: number;
}

export interface Upstream {
  /** Sends a request to `<baseURL><rest>`; its answer and failure go to `handler`. */
  dispatch: (call: UpstreamCall, handler: DispatchHandler) => void;
  /**
   * The headers the upstream gets for a client request, from its raw list (`req.rawHeaders`), as
   * a flat list (`length`: the body's, when known).
   */
  headers(
    raw: readonly string[],
    claims: Claims,
    client: ClientView,
    length: number | undefined,
  ): string[];
  /** The upstream's origin, for the log. */
  readonly origin: string;
  /** A failed request's error in the core's words, when the proxy or TLS caused it (upstream-route.ts). */
  failure(error: unknown): TransportError | undefined;
  /** For an error `failure` did not name: a probe of a connection closed after the handshake. */
  probe(error: unknown): Promise<TransportError | undefined>;
  /**
   * Reads `upstream.tls`'s files and loads the proxy's dispatcher when a proxy applies, then sets
   * up the route; direct and without TLS files, the upstream is ready when made. Rejects with an
   * error naming the field or variable (a missing or non-PEM file, a proxy variable that is no
   * http URL).
   */
  ready(): Promise<void>;
  /** Closes the idle keep-alive connections. */
  close(): void;
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const base = new URL(options.baseURL);
  const prefix = base.pathname.replace(/\/+$/, "");
  const origin = base.origin;
  const subject = options.subjectHeader?.toLowerCase();
  const apiKey = options.apiKey ? `Bearer ${options.apiKey}` : undefined;
  const tls = hasTlsFiles(options.tls) ? options.tls : undefined;
  const env = options.env ?? process.env;
  const decided = proxyFor(base, env);
  let route: UpstreamRoute | undefined;

  const upstream: Upstream = {
    origin: base.origin,
    dispatch: () => {
      throw new Error("the upstream is not ready: await its ready() before the first request");
    },
    failure: (error) => route?.failure(error),
    probe: (error) => route?.probe(error) ?? Promise.resolve(undefined),
    async ready() {
      if (route) return;
      use(await outboundRoute(base, decided, tls, env));
    },
    headers(raw, claims, client, length) {
      let named: Set<string> | undefined;
      // Host first, as Node would write it (it adds none to a list of headers).
      const copied: string[] = ["host", base.host];
      for (let i = 0; i < raw.length; i += 2) {
        const name = (raw[i] as string).toLowerCase();
        const value = raw[i + 1] as string;
        if (name === "connection") named = connectionNamed(value, named);
        if (NOT_FORWARDED.has(name) || name === subject || isForwardingHeader(name)) continue;
        copied.push(name, value);
      }
      const out = named ? without(copied, named) : copied;
      setForwarding(out, client);
      // The answer is relayed as it comes: a compressed one would reach the client compressed,
      // and the gateway could not read its usage.
      out.push("accept-encoding", "identity");
      // A body of unknown length goes chunked: undici says so itself (it refuses the header).
      if (length !== undefined) out.push("content-length", String(length));
      if (apiKey) out.push("authorization", apiKey);
      if (subject && typeof claims.sub === "string") out.push(subject, claims.sub);
      return out;
    },
    close: () => route?.close(),
  };

  function use(chosen: UpstreamRoute): void {
    route = chosen;
    options.logger?.emit("gateway_upstream_route", { upstream: base.origin, ...chosen.fields });
    const { dispatcher } = chosen;
    upstream.dispatch = (call, handler) => {
      dispatcher.dispatch(
        {
          origin,
          path: `${prefix}${call.rest}`,
          method: call.method as "GET",
          headers: call.headers as string[],
          body: call.body ?? null,
          headersTimeout: call.headersTimeoutMs,
          // An SSE stream may pause for long between events; the client's leaving ends it.
          bodyTimeout: 0,
        },
        handler,
      );
    };
  }
  // Direct and without TLS files to read, the upstream is ready at once.
  if (!decided.proxy && !tls) use(directRoute(base, decided));
  return upstream;
}
