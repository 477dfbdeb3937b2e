import type { ClientRequest } from "node:http";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { createSecureContext, type SecureContext } from "node:tls";
import {
  classifyFailure,
  type FailureContext,
  nodeTlsOptions,
  type ProxyRoute,
  proxyFor,
  proxyRefusal,
  readPem,
  redactUrl,
  type TransportError,
} from "@vymalo/oauth2-core";
import { HttpsProxyAgent } from "https-proxy-agent";

/**
 * How the gateway reaches the model server, decided once per upstream by the core's `proxyFor`
 * — the rule (HTTPS_PROXY/HTTP_PROXY/NO_PROXY, lower case first) every other outbound call of
 * ours follows. Direct: Node's own keep-alive agent, as before, with nothing added per request.
 * Through a proxy: https-proxy-agent, an `http.Agent` (the relay is built on node:http, which
 * undici's ProxyAgent cannot carry) that opens a CONNECT tunnel for http and https upstreams
 * alike, as the core's transport does, with `Proxy-Authorization` from the proxy URL's
 * credentials, and keeps the tunnels alive for reuse.
 *
 * `upstream.tls.caFile` (a model server behind a private CA) becomes one TLS context, for the
 * direct agent and for the TLS inside the tunnel (and an https:// proxy's own): a context, not a
 * `ca` option, because Node's https agent writes every `ca` certificate into each request's
 * pool key, and the bundle holds Node's roots too.
 */

export interface UpstreamRoute {
  readonly agent: HttpAgent;
  /** For the start log: the route, the proxy without its credentials, the deciding variable. */
  readonly fields: Record<string, unknown>;
  /**
   * Through a proxy only: watches the request's CONNECT. A refused tunnel becomes an error naming
   * the proxy; otherwise the agent would hand the proxy's own answer (a 407 with its
   * `Proxy-Authenticate`) to the relay as if the model server had sent it.
   */
  readonly watch: ((request: ClientRequest) => void) | undefined;
  /** A failed request's error, when the proxy caused it: the words naming it, the cause and the fix. */
  proxyFailure(error: unknown): TransportError | undefined;
}

const PROXY_KINDS = new Set(["proxy_unreachable", "proxy_refused"]);

/** The trust for the model server: `caFile` added to Node's roots and NODE_EXTRA_CA_CERTS. */
export async function upstreamTrust(caFile: string): Promise<SecureContext> {
  const ca = await readPem("upstream.tls.caFile", caFile);
  const options = await nodeTlsOptions({ ca, cert: undefined, key: undefined });
  return createSecureContext(options);
}

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

function direct(
  secure: boolean,
  route: ProxyRoute,
  secureContext: SecureContext | undefined,
): UpstreamRoute {
  return {
    agent: secure
      ? new HttpsAgent({ keepAlive: true, ...(secureContext ? { secureContext } : {}) })
      : new HttpAgent({ keepAlive: true }),
    fields: { route: "direct", ...(route.bypassedBy ? { noProxy: route.bypassedBy } : {}) },
    watch: undefined,
    proxyFailure: () => undefined,
  };
}

/** The proxy URL as the agent needs it; a bad one stops the start, its text never shown. */
function proxyUrl(route: ProxyRoute & { proxy: string }): URL {
  let url: URL;
  try {
    url = new URL(route.proxy);
  } catch {
    throw new Error(
      `${route.variable} is not a URL: set it to http://host:port (credentials as http://user:password@host:port, percent-encoded)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(
      `${route.variable} names a ${url.protocol.replace(/:$/, "")} proxy (${redactUrl(route.proxy)}); the gateway reaches the model server through http:// and https:// proxies only`,
    );
  }
  return url;
}

export function upstreamRoute(
  base: URL,
  env: NodeJS.ProcessEnv = process.env,
  secureContext?: SecureContext | undefined,
): UpstreamRoute {
  const secure = base.protocol === "https:";
  const route = proxyFor(base, env);
  if (!route.proxy) return direct(secure, route, secureContext);
  const proxied = { ...route, proxy: route.proxy };
  const url = proxyUrl(proxied);
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
