import type { FetchLike } from "../fetch.js";
import type { CoreEvent, Logger } from "../log.js";
import {
  classifyFailure,
  clientCertificateFailure,
  type FailureContext,
  looksClosedAfterHandshake,
  proxyRefusal,
  type TransportError,
  unusableProxy,
} from "./failure.js";
import { proxyFor } from "./proxy-env.js";
import { hasTlsFiles, type TlsFiles, type TlsMaterial, tlsMaterial } from "./tls-material.js";

export interface TransportOptions {
  /** The provider's `tls` block: a CA bundle added to the defaults, a client certificate. */
  readonly tls?: TlsFiles | undefined;
  /** Where the proxy variables are read. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Gets one typed event per proxy or TLS failure (`oauth2_proxy_unreachable`…). */
  readonly logger?: Logger<CoreEvent> | undefined;
  /** Named in those events. */
  readonly providerId?: string | undefined;
  /**
   * The fetch the request is finally sent with (a test's, doctor's recorder): it must pass
   * `init` on to {@link platformFetch}, which reads the options added here. Default: that one.
   */
  readonly base?: FetchLike | undefined;
}

/** Bun (the runtime opencode runs plugins in) takes proxy and TLS options on fetch itself. */
const isBun = (): boolean => typeof process !== "undefined" && Boolean(process.versions?.bun);

const NO_FILES: TlsMaterial = { ca: undefined, cert: undefined, key: undefined };

/**
 * The options this runtime's fetch needs for one request. Bun: `proxy` and `tls` (its `ca` is
 * added to the defaults and it reads NODE_EXTRA_CA_CERTS itself). Node: an undici dispatcher,
 * loaded only when there is a proxy or a TLS file to apply — otherwise nothing, so a plain
 * request costs what the global fetch costs.
 */
async function runtimeInit(
  proxy: string | undefined,
  material: TlsMaterial | undefined,
): Promise<Record<string, unknown>> {
  if (isBun()) {
    const tls: Record<string, string> = {};
    if (material?.ca) tls.ca = material.ca;
    if (material?.cert) tls.cert = material.cert;
    if (material?.key) tls.key = material.key;
    return { ...(proxy ? { proxy } : {}), ...(material ? { tls } : {}) };
  }
  if (!proxy && !material) return {};
  const { nodeDispatcher } = await import("./node-dispatcher.js");
  return { dispatcher: await nodeDispatcher(proxy, material ?? NO_FILES) };
}

/**
 * The fetch a request finally goes out with: the runtime's own, except on Node for a request
 * whose `init` carries an undici dispatcher (what `outboundFetch` adds for a proxy or TLS
 * files), which goes out with the fetch of that same undici (see `undiciFetch`). The default
 * `base`; an injected one that sends for real (doctor's recorder) calls this, not `fetch`.
 */
export const platformFetch: FetchLike = (url, init) => {
  if (init?.dispatcher === undefined || isBun()) return fetch(url, init);
  return import("./node-dispatcher.js").then(({ undiciFetch }) => undiciFetch(url, init));
};

/**
 * A connection closed right after the TLS handshake: one probe tells a refused client
 * certificate (TLS 1.3 says so only after fetch has given up) from anything else.
 */
async function diagnoseClosed(
  err: unknown,
  ctx: FailureContext,
  material: TlsMaterial,
): Promise<TransportError | undefined> {
  if (!ctx.url.startsWith("https:") || !looksClosedAfterHandshake(err)) return undefined;
  const { probeClientCertificate } = await import("./tls-probe.js");
  const { connectOptions } = await import("./node-dispatcher.js");
  const verdict = await probeClientCertificate(
    ctx.url,
    ctx.route.proxy,
    await connectOptions(material),
  ).catch(() => ({ kind: "unknown" as const }));
  if (verdict.kind === "alert") return classifyFailure({ code: verdict.code, cause: err }, ctx);
  if (verdict.kind === "closed" && ctx.certFile) {
    return clientCertificateFailure("connection closed after the TLS handshake", ctx, err);
  }
  return undefined;
}

/**
 * The one outbound fetch: every request we make to an IdP (and the gateway's to its upstream
 * services) goes through one of these. It routes by HTTPS_PROXY/HTTP_PROXY/NO_PROXY, trusts
 * `tls.caFile` next to the defaults, presents `tls.certFile`/`tls.keyFile`, and turns a proxy
 * or TLS failure into a {@link TransportError} naming the URL, the cause and the fix (with its
 * log event). Everything else — HTTP answers, timeouts — passes through untouched.
 */
export function outboundFetch(options: TransportOptions = {}): FetchLike {
  const base: FetchLike = options.base ?? platformFetch;
  const env = options.env ?? process.env;
  const tls = hasTlsFiles(options.tls) ? options.tls : undefined;
  return async (url, init) => {
    const route = proxyFor(url, env);
    const ctx: FailureContext = {
      url,
      route,
      caFile: tls?.caFile,
      certFile: tls?.certFile,
    };
    const unusable = unusableProxy(url, route);
    let material: TlsMaterial | undefined;
    try {
      if (unusable) throw unusable;
      material = tls ? await tlsMaterial(tls) : undefined;
      const extra = await runtimeInit(route.proxy, material);
      const response = await base(url, { ...init, ...extra } as RequestInit);
      // A plain-http request through a proxy gets the proxy's refusal as an answer, not an error.
      if (route.proxy && response.status === 407) {
        await response.body?.cancel().catch(() => {});
        throw proxyRefusal(407, ctx);
      }
      return response;
    } catch (err) {
      // A TransportError thrown above (the unusable proxy, a 407) is passed through as it is.
      const failure =
        classifyFailure(err, ctx) ?? (await diagnoseClosed(err, ctx, material ?? NO_FILES));
      if (!failure) throw err;
      options.logger?.emit(failure.event, {
        provider: options.providerId,
        ...failure.toLogFields(),
      });
      throw failure;
    }
  };
}

/**
 * For code on undici's own API (the gateway's upstream on `request`/`Pool`): the dispatcher a
 * request to `url` needs for its proxy and TLS files, or undefined when a direct connection
 * with the default trust does (then keep your own pool). Node only; loads undici.
 */
export async function outboundDispatcher(
  url: string,
  options: Pick<TransportOptions, "tls" | "env"> = {},
): Promise<import("undici").Dispatcher | undefined> {
  const route = proxyFor(url, options.env ?? process.env);
  const { proxy } = route;
  const unusable = unusableProxy(url, route);
  if (unusable) throw unusable;
  const material = hasTlsFiles(options.tls) ? await tlsMaterial(options.tls) : undefined;
  if (!proxy && !material) return undefined;
  const { nodeDispatcher } = await import("./node-dispatcher.js");
  return nodeDispatcher(proxy, material ?? NO_FILES);
}

/**
 * For code on its own dispatcher (the gateway's relay), after `classifyFailure` named nothing:
 * a connection closed right after the TLS handshake, probed once with the same files, as
 * `outboundFetch` does (TLS 1.3 reports a refused or missing client certificate only after the
 * client has sent its request). Undefined for anything else. Node only.
 */
export async function diagnoseClosedConnection(
  err: unknown,
  ctx: FailureContext,
  tls?: TlsFiles,
): Promise<TransportError | undefined> {
  return diagnoseClosed(err, ctx, hasTlsFiles(tls) ? await tlsMaterial(tls) : NO_FILES);
}

/**
 * For Node's own clients (an `https.Agent`, a `tls.connect`): the TLS options for `material` —
 * its CA added to Node's bundled roots and NODE_EXTRA_CA_CERTS, as the transport trusts it,
 * and the client certificate. Node only.
 */
export async function nodeTlsOptions(
  material: TlsMaterial,
): Promise<import("./node-dispatcher.js").ConnectOptions> {
  const { connectOptions } = await import("./node-dispatcher.js");
  return connectOptions(material);
}
