import type { ClientRequest } from "node:http";
import type { SecureContext } from "node:tls";
import {
  classifyFailure,
  type FailureContext,
  type ProxyRoute,
  proxyRefusal,
  redactUrl,
  TransportError,
} from "@vymalo/oauth2-core";
import { HttpsProxyAgent } from "https-proxy-agent";
import type { UpstreamRoute } from "./upstream-route.js";

/**
 * The model server through a forward proxy: https-proxy-agent, an `http.Agent` (the relay is
 * built on node:http, which undici's ProxyAgent cannot carry) that opens a CONNECT tunnel for
 * http and https upstreams alike, as the core's transport does, with `Proxy-Authorization` from
 * the proxy URL's credentials, and keeps the tunnels alive for reuse. Loaded only when a proxy
 * applies (upstream-route.ts).
 */

const PROXY_KINDS = new Set(["proxy_unreachable", "proxy_refused"]);

type ConnectOptions = Parameters<HttpsProxyAgent<string>["connect"]>[1];

/** The proxy agent that verifies the model server (inside the tunnel) with `secureContext`. */
class TrustingProxyAgent extends HttpsProxyAgent<string> {
  readonly #secureContext: SecureContext;
  constructor(proxy: URL, secureContext: SecureContext) {
    // The proxy's own TLS (an https:// proxy) with the same trust.
    super(proxy, { keepAlive: true, secureContext });
    this.#secureContext = secureContext;
  }
  override connect(request: ClientRequest, options: ConnectOptions) {
    if (!options.secureEndpoint) return super.connect(request, options);
    return super.connect(request, { ...options, secureContext: this.#secureContext });
  }
}

/** The proxy URL as the agent needs it; a bad one stops the start, its text never shown. */
function proxyUrl(base: URL, route: ProxyRoute & { proxy: string }): URL {
  const refuse = (message: string, fix: string) =>
    new TransportError({
      kind: "proxy_unreachable",
      url: redactUrl(base.href),
      proxy: undefined,
      message,
      fix,
    });
  let url: URL;
  try {
    url = new URL(route.proxy);
  } catch {
    throw refuse(
      `${route.variable} is not a URL.`,
      `set it to http://host:port (with credentials: http://user:password@host:port, percent-encoded)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw refuse(
      `${route.variable} names a ${url.protocol.replace(/:$/, "")} proxy (${redactUrl(route.proxy)}): the gateway reaches the model server through http:// and https:// proxies only.`,
      `point ${route.variable} at an http:// proxy, or add the model server's host to NO_PROXY`,
    );
  }
  return url;
}

export function proxiedRoute(
  base: URL,
  route: ProxyRoute & { proxy: string },
  secureContext: SecureContext | undefined,
): UpstreamRoute {
  const url = proxyUrl(base, route);
  const agent = secureContext
    ? new TrustingProxyAgent(url, secureContext)
    : new HttpsProxyAgent(url, { keepAlive: true });
  // agent-base otherwise guesses the protocol from a stack trace on every request.
  agent.protocol = base.protocol;
  const ctx: FailureContext = { url: base.href, route, caFile: undefined, certFile: undefined };
  return {
    agent,
    fields: { route: "proxy", proxy: redactUrl(route.proxy), variable: route.variable },
    watch(request) {
      request.once("proxyConnect", (answer: { statusCode?: number }) => {
        const status = answer.statusCode ?? 0;
        if (status !== 200) request.destroy(proxyRefusal(status, ctx));
      });
    },
    proxyFailure(error) {
      const failure = classifyFailure(error, ctx);
      return failure && PROXY_KINDS.has(failure.kind) ? failure : undefined;
    },
  };
}
