import { type ClientRequest, Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { createSecureContext, type SecureContext } from "node:tls";
import { nodeTlsOptions, type ProxyRoute, readPem, type TransportError } from "@vymalo/oauth2-core";

/**
 * How the gateway reaches the model server, decided once per upstream by the core's `proxyFor`
 * — the rule (HTTPS_PROXY/HTTP_PROXY/NO_PROXY, lower case first) every other outbound call of
 * ours follows. Direct: Node's own keep-alive agent, as before, with nothing added per request,
 * ready as soon as the upstream is made. Through a proxy: upstream-proxy-agent.ts, which
 * upstream.ts loads only then (a gateway without a proxy never loads the proxy agent's modules).
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

/** The trust for the model server: `caFile` added to Node's roots and NODE_EXTRA_CA_CERTS. */
export async function upstreamTrust(caFile: string): Promise<SecureContext> {
  const ca = await readPem("upstream.tls.caFile", caFile);
  const options = await nodeTlsOptions({ ca, cert: undefined, key: undefined });
  return createSecureContext(options);
}

/** The direct route: Node's keep-alive agent (with the private CA's context, when there is one). */
export function directRoute(
  base: URL,
  route: ProxyRoute,
  secureContext: SecureContext | undefined,
): UpstreamRoute {
  return {
    agent:
      base.protocol === "https:"
        ? new HttpsAgent({ keepAlive: true, ...(secureContext ? { secureContext } : {}) })
        : new HttpAgent({ keepAlive: true }),
    fields: { route: "direct", ...(route.bypassedBy ? { noProxy: route.bypassedBy } : {}) },
    watch: undefined,
    proxyFailure: () => undefined,
  };
}
