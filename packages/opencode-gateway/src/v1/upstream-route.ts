import {
  classifyFailure,
  diagnoseClosedConnection,
  type FailureContext,
  looksClosedAfterHandshake,
  outboundDispatcher,
  type ProxyRoute,
  redactUrl,
  type TlsFiles,
  type TransportError,
  tlsMaterial,
} from "@vymalo/oauth2-core";
import { checkPair } from "../tls-pair.js";

/**
 * How the gateway reaches the model server, decided once per upstream by the core's `proxyFor`
 * — the rule (HTTPS_PROXY/HTTP_PROXY/NO_PROXY, lower case first) every other outbound call of
 * ours follows. The relay speaks undici's `dispatch` API to a dispatcher (a keep-alive pool):
 *
 * - direct, with the default trust: an Agent of the undici Node bundles for its own fetch. It
 *   costs no memory (fetch loads it anyway) and less CPU per request than `node:http`'s client;
 * - through a proxy, or with `upstream.tls.caFile`: the core's `outboundDispatcher` (npm undici's
 *   ProxyAgent, CONNECT tunnels kept alive, or an Agent with the CA added to Node's roots), the
 *   one the gateway's other outbound calls use. Only then is npm undici loaded.
 */

export type Dispatcher = NonNullable<Awaited<ReturnType<typeof outboundDispatcher>>>;
export type DispatchHandler = Parameters<Dispatcher["dispatch"]>[1];

export interface UpstreamRoute {
  readonly dispatcher: Dispatcher;
  /** For the start log: the route, the proxy without its credentials, the deciding variable. */
  readonly fields: Record<string, unknown>;
  /**
   * A failed request's error in the core's words, when the proxy or TLS caused it: what went
   * wrong, the cause and the fix (the fields named as `upstream.tls.*`).
   */
  failure(error: unknown): TransportError | undefined;
  /**
   * For an error `failure` did not name, a connection the model server closed right after the
   * TLS handshake: one probe with the route's files tells a refused or missing client
   * certificate from anything else. At most one probe a minute: its verdict stands for the
   * failures in between.
   */
  probe(error: unknown): Promise<TransportError | undefined>;
  /** Closes the route's own pool (a shared one stays: other outbound calls use it). */
  close(): void;
}

const GLOBAL_DISPATCHER = Symbol.for("undici.globalDispatcher.1");

/**
 * A new keep-alive pool from Node's bundled undici. Its classes are not exported: the global
 * dispatcher fetch makes (on its first call, hence the one here) is an instance of its Agent.
 * When the process installed another dispatcher (a ProxyAgent of its own), that one is used as
 * is, as fetch would.
 */
function bundledPool(): { dispatcher: Dispatcher; own: boolean } {
  const scope = globalThis as Record<symbol, Dispatcher | undefined>;
  if (!scope[GLOBAL_DISPATCHER]) fetch("data:,").catch(() => {});
  const global = scope[GLOBAL_DISPATCHER];
  if (!global) throw new Error("Node's fetch did not set up its dispatcher");
  const Agent = global.constructor as new () => Dispatcher;
  return Agent.name === "Agent"
    ? { dispatcher: new Agent(), own: true }
    : { dispatcher: global, own: false };
}

const PROBE_EVERY_MS = 60_000;

/** `upstream.tls` as the core reads it: its errors and fixes name the `upstream.tls.*` fields. */
type UpstreamTlsFiles = UpstreamTls & { block: "upstream.tls" };

/** The words for a failure on the route to `base` (the core's), fields named `upstream.tls.*`. */
function failureOn(
  base: URL,
  route: ProxyRoute,
  files: UpstreamTlsFiles | undefined,
): Pick<UpstreamRoute, "failure" | "probe"> {
  const ctx: FailureContext = {
    url: base.href,
    route,
    caFile: files?.caFile,
    certFile: files?.certFile,
    block: "upstream.tls",
  };
  let probed: { at: number; verdict: Promise<TransportError | undefined> } | undefined;
  return {
    failure: (error) => classifyFailure(error, ctx),
    probe(error) {
      // Only a closed connection is probed, so other failures do not use up the minute's probe.
      if (base.protocol !== "https:" || !looksClosedAfterHandshake(error)) {
        return Promise.resolve(undefined);
      }
      if (!probed || Date.now() - probed.at > PROBE_EVERY_MS) {
        const verdict = diagnoseClosedConnection(error, ctx, files).catch(() => undefined);
        probed = { at: Date.now(), verdict };
      }
      return probed.verdict;
    },
  };
}

/** The direct route with the default trust: the bundled undici's pool, ready at once. */
export function directRoute(base: URL, route: ProxyRoute): UpstreamRoute {
  const { dispatcher, own } = bundledPool();
  return {
    dispatcher,
    fields: { route: "direct", ...(route.bypassedBy ? { noProxy: route.bypassedBy } : {}) },
    ...failureOn(base, route, undefined),
    close: () => {
      if (own) dispatcher.destroy().catch(() => {});
    },
  };
}

/**
 * `upstream.tls`: the model server's CA and the gateway's client certificate (PEM files), the
 * core's `TlsFiles` (its `block` is set here).
 */
export type UpstreamTls = Omit<TlsFiles, "block">;

/**
 * Through a proxy and/or with `upstream.tls` files (the CA added to Node's roots and
 * NODE_EXTRA_CA_CERTS, for the model server and an https:// proxy alike; the client certificate
 * presented to the model server): the core's dispatcher. A file that cannot be used is named by
 * its field (`upstream.tls.keyFile`…), a proxy variable that is no http(s) URL by the variable
 * (the core's `unusableProxy`, its credentials unshown); a proxy's refusal or absence becomes an
 * error naming it (classifyFailure).
 */
export async function outboundRoute(
  base: URL,
  route: ProxyRoute,
  tls: UpstreamTls | undefined,
  env: NodeJS.ProcessEnv,
): Promise<UpstreamRoute> {
  const { proxy } = route;
  const files: UpstreamTlsFiles | undefined = tls ? { ...tls, block: "upstream.tls" } : undefined;
  // The client certificate and its key tried together now; the dispatcher reuses what is read.
  if (files?.certFile && files.keyFile) {
    const { cert = "", key = "" } = await tlsMaterial(files);
    checkPair("upstream.tls", { certFile: files.certFile, keyFile: files.keyFile }, { cert, key });
  }
  const dispatcher = await outboundDispatcher(base.href, { env, ...(files ? { tls: files } : {}) });
  if (!dispatcher) return directRoute(base, route);
  return {
    dispatcher,
    fields: proxy
      ? { route: "proxy", proxy: redactUrl(proxy), variable: route.variable }
      : { route: "direct", ...(route.bypassedBy ? { noProxy: route.bypassedBy } : {}) },
    ...failureOn(base, route, files),
    close: () => {},
  };
}
