import type { CoreEvent } from "../log.js";
import { type ProxyRoute, redactUrl } from "./proxy-env.js";

/** What went wrong between us and the server, before any HTTP answer. */
export type TransportFailureKind =
  | "proxy_unreachable"
  | "proxy_refused"
  | "tls_untrusted"
  | "tls_client_certificate_required"
  | "tls_client_certificate_rejected"
  | "tls_files_unreadable";

/** The log event of each failure: every kind has one, and only catalogued names compile. */
export const TRANSPORT_EVENTS: Record<TransportFailureKind, CoreEvent> = {
  proxy_unreachable: "oauth2_proxy_unreachable",
  proxy_refused: "oauth2_proxy_refused",
  tls_untrusted: "oauth2_tls_untrusted",
  tls_client_certificate_required: "oauth2_tls_client_certificate_required",
  tls_client_certificate_rejected: "oauth2_tls_client_certificate_rejected",
  tls_files_unreadable: "oauth2_tls_files_unreadable",
};

export interface TransportErrorInit {
  kind: TransportFailureKind;
  /** The request's URL, already redacted (see {@link redactUrl}). */
  url: string | undefined;
  proxy?: string | undefined;
  /** The runtime's error code (`ECONNREFUSED`, `SELF_SIGNED_CERT_IN_CHAIN`…). */
  code?: string | undefined;
  message: string;
  fix: string;
  cause?: unknown;
}

/** A proxy or TLS failure, with what failed, the URL, the cause and the fix. */
export class TransportError extends Error {
  override readonly name = "TransportError";
  readonly kind: TransportFailureKind;
  readonly url: string | undefined;
  readonly proxy: string | undefined;
  readonly code: string | undefined;
  readonly fix: string;
  readonly detail: string;

  constructor(init: TransportErrorInit) {
    super(`${init.message} Fix: ${init.fix}`, { cause: init.cause });
    ({ kind: this.kind, url: this.url, proxy: this.proxy, code: this.code, fix: this.fix } = init);
    this.detail = init.message;
  }

  get event(): CoreEvent {
    return TRANSPORT_EVENTS[this.kind];
  }

  /** Fields for the log event (the proxy without its credentials). */
  toLogFields(): Record<string, unknown> {
    return {
      url: this.url,
      proxy: this.proxy,
      cause_code: this.code,
      detail: this.detail,
      fix: this.fix,
    };
  }
}

const UNTRUSTED =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_UNTRUSTED|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|CERT_SIGNATURE_FAILURE)$/;
/** TLS alerts a server sends about the client's certificate (OpenSSL's names, Node and Bun). */
const CLIENT_CERT_ALERT =
  /(ALERT_CERTIFICATE_REQUIRED|ALERT_HANDSHAKE_FAILURE|ALERT_BAD_CERTIFICATE|ALERT_UNKNOWN_CA|ALERT_CERTIFICATE_EXPIRED|ALERT_CERTIFICATE_UNKNOWN|ALERT_CERTIFICATE_REVOKED|ALERT_ACCESS_DENIED|ALERT_DECRYPT_ERROR)|certificate required/i;
const UNREACHABLE =
  /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|ConnectionRefused|FailedToOpenSocket|UnableToConnect)$/;

const REASONS: Array<[RegExp, string]> = [
  [/SELF_SIGNED_CERT_IN_CHAIN/, "self-signed certificate in the chain"],
  [/DEPTH_ZERO_SELF_SIGNED_CERT/, "the certificate is self-signed"],
  [/UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY_LEAF|CERT_UNTRUSTED/, "its issuer is not a trusted CA"],
  [/CERT_HAS_EXPIRED/, "the server's certificate has expired"],
  [/CERT_NOT_YET_VALID/, "the server's certificate is not valid yet"],
  [/ALTNAME|HOSTNAME/, "the certificate is not issued for this host name"],
];

function chain(err: unknown): Array<{ code?: unknown; message?: unknown }> {
  const links: Array<{ code?: unknown; message?: unknown }> = [];
  for (let link = err, depth = 0; link && typeof link === "object" && depth < 6; depth += 1) {
    links.push(link as { code?: unknown; message?: unknown });
    link = (link as { cause?: unknown }).cause;
  }
  return links;
}

function firstCode(err: unknown, test: (code: string, message: string) => boolean) {
  for (const link of chain(err)) {
    const code = typeof link.code === "string" ? link.code : "";
    const message = typeof link.message === "string" ? link.message : "";
    if (test(code, message)) return code || message;
  }
  return undefined;
}

/** The proxy's answer to CONNECT, as undici words it ("Proxy response (407) !== 200 …"). */
function proxyStatus(err: unknown): number | undefined {
  for (const link of chain(err)) {
    const match =
      typeof link.message === "string" ? /Proxy response \((\d{3})\)/i.exec(link.message) : null;
    if (match) return Number(match[1]);
  }
  return undefined;
}

/**
 * Where a `tls` block sits in its config, for the messages that name its fields: a provider's
 * (`tls`) or the gateway's link to its model server (`upstream.tls`).
 */
export type TlsBlock = "tls" | "upstream.tls";

export interface FailureContext {
  readonly url: string;
  readonly route: ProxyRoute;
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  /** Where the TLS files are configured, for the fixes that name them; default `tls` (a provider's). */
  readonly block?: TlsBlock | undefined;
}

/** A field of the context's TLS block, as a fix names it: `tls.caFile`, `upstream.tls.caFile`. */
const fieldOf = (ctx: FailureContext, name: "caFile" | "certFile" | "keyFile"): string =>
  `${ctx.block ?? "tls"}.${name}`;
/** Where that block is set. */
const whereOf = (ctx: FailureContext): string =>
  ctx.block === "upstream.tls" ? "in the gateway's config" : "on the provider";

/**
 * A proxy variable that names no proxy we can use: not a URL (a stray character, an unclosed
 * `[`), or a scheme other than http(s) (`socks5://`). `host:port` is http (proxyFor). Said
 * before any request is sent, so the error names the variable and the fix, not whatever the
 * HTTP client makes of the value; the value itself is shown only without its credentials.
 * Undefined when the route is direct or its proxy is usable.
 */
export function unusableProxy(url: string, route: ProxyRoute): TransportError | undefined {
  if (!route.proxy) return undefined;
  const variable = route.variable ?? "HTTPS_PROXY";
  let parsed: URL | undefined;
  try {
    parsed = new URL(route.proxy);
  } catch {
    parsed = undefined;
  }
  const refused = (message: string, fix: string) =>
    new TransportError({
      kind: "proxy_unreachable",
      url: redactUrl(url),
      proxy: undefined,
      message,
      fix,
    });
  if (!parsed) {
    return refused(
      `${variable} is not a URL.`,
      "set it to http://host:port (with credentials: http://user:password@host:port, percent-encoded)",
    );
  }
  if (parsed.protocol === "http:" || parsed.protocol === "https:") return undefined;
  return refused(
    `${variable} names a ${parsed.protocol.replace(/:$/, "")} proxy (${redactUrl(route.proxy)}): requests go through http:// and https:// proxies only.`,
    `point ${variable} at an http:// proxy, or add ${new URL(url).hostname} to NO_PROXY if it is reachable without one`,
  );
}

/** The words for a proxy failure: a refusal to tunnel (407 or another status). */
export function proxyRefusal(status: number, ctx: FailureContext, cause?: unknown): TransportError {
  const url = redactUrl(ctx.url);
  const proxy = redactUrl(ctx.route.proxy);
  const variable = ctx.route.variable ?? "HTTPS_PROXY";
  const hasCredentials = Boolean(ctx.route.proxy && new URL(ctx.route.proxy).username);
  const host = new URL(ctx.url).hostname;
  // 407 by the standard; tinyproxy and some appliances answer a failed login with 401.
  if (status === 407 || status === 401) {
    return new TransportError({
      kind: "proxy_refused",
      url,
      proxy,
      code: `HTTP ${status}`,
      message: `the proxy ${proxy} (${variable}) refused ${url}: it wants ${hasCredentials ? "other " : ""}credentials (HTTP ${status}).`,
      fix: hasCredentials
        ? `check the user and password in ${variable} (percent-encode special characters)`
        : `put the proxy's credentials in ${variable}: http://user:password@proxy-host:port (percent-encoded)`,
      cause,
    });
  }
  // A 5xx is the proxy failing to connect (tinyproxy's 500 "Unable to connect", squid's 503),
  // not a policy: the server is down or unreachable from the proxy.
  if (status >= 500) {
    return new TransportError({
      kind: "proxy_refused",
      url,
      proxy,
      code: `HTTP ${status}`,
      message: `the proxy ${proxy} (${variable}) could not reach ${url} (it answered HTTP ${status}).`,
      fix: `check that ${host} is up and that the proxy can reach it; if ${host} is reachable without the proxy, add it to NO_PROXY`,
      cause,
    });
  }
  return new TransportError({
    kind: "proxy_refused",
    url,
    proxy,
    code: `HTTP ${status}`,
    message: `the proxy ${proxy} (${variable}) did not open a tunnel to ${url} (it answered HTTP ${status}).`,
    fix: `the proxy may not allow ${host} or its port: ask your network team, or add ${host} to NO_PROXY if it is reachable directly`,
    cause,
  });
}

/**
 * The server refused our side of TLS: no client certificate (`tls.certFile` unset) or the one
 * we sent. `code` is the TLS alert, or what the probe saw (see tls-probe.ts).
 */
export function clientCertificateFailure(
  code: string,
  ctx: FailureContext,
  cause: unknown,
): TransportError {
  const target = new URL(ctx.url);
  const url = redactUrl(ctx.url);
  const origin = `${target.protocol}//${target.host}`;
  const proxy = redactUrl(ctx.route.proxy);
  if (!ctx.certFile) {
    return new TransportError({
      kind: "tls_client_certificate_required",
      url,
      proxy,
      code,
      message: `${origin} requires a TLS client certificate and none was sent (${code}, requesting ${url}).`,
      fix: `set ${fieldOf(ctx, "certFile")} and ${fieldOf(ctx, "keyFile")} ${whereOf(ctx)} to your client certificate and its private key (PEM)`,
      cause,
    });
  }
  return new TransportError({
    kind: "tls_client_certificate_rejected",
    url,
    proxy,
    code,
    message: `${origin} refused the client certificate in ${fieldOf(ctx, "certFile")} (${ctx.certFile}) (${code}, requesting ${url}).`,
    fix:
      ctx.block === "upstream.tls"
        ? `check that the certificate has not expired, that a CA the model server trusts issued it and that ${fieldOf(ctx, "keyFile")} is its key`
        : "check that the certificate has not expired, that a CA the IdP trusts issued it and that tls.keyFile is its key (opencode-oauth2 doctor shows its dates and issuer)",
    cause,
  });
}

/** Names a fetch failure that is about the proxy or TLS; undefined for anything else. */
export function classifyFailure(err: unknown, ctx: FailureContext): TransportError | undefined {
  if (err instanceof TransportError) return err;
  const target = new URL(ctx.url);
  const url = redactUrl(ctx.url);
  const origin = `${target.protocol}//${target.host}`;
  const proxy = redactUrl(ctx.route.proxy);
  const status = ctx.route.proxy ? proxyStatus(err) : undefined;
  if (status !== undefined) return proxyRefusal(status, ctx, err);

  const untrusted = firstCode(err, (code) => UNTRUSTED.test(code));
  if (untrusted) {
    const reason =
      REASONS.find(([pattern]) => pattern.test(untrusted))?.[1] ?? "verification failed";
    const hostProblem = /ALTNAME|HOSTNAME/.test(untrusted);
    const expired = /EXPIRED|NOT_YET_VALID/.test(untrusted);
    return new TransportError({
      kind: "tls_untrusted",
      url,
      proxy,
      code: untrusted,
      message: `the TLS certificate of ${origin} is not trusted: ${reason} (${untrusted}, requesting ${url}).`,
      fix: hostProblem
        ? `use the host name the server's certificate is issued for in the URL, or have the certificate reissued for ${target.hostname}`
        : expired
          ? `the server (or a TLS-inspecting proxy in front of it) presents an out-of-date certificate: tell its operators; check this machine's clock`
          : ctx.caFile
            ? `${fieldOf(ctx, "caFile")} (${ctx.caFile}) does not hold the CA that issued this certificate: add that CA's certificate (PEM) to the file`
            : `set ${fieldOf(ctx, "caFile")} ${whereOf(ctx)} to your organisation's CA bundle (PEM), or NODE_EXTRA_CA_CERTS for every program; do not turn verification off`,
      cause: err,
    });
  }

  const alert = firstCode(
    err,
    (code, message) => CLIENT_CERT_ALERT.test(code) || CLIENT_CERT_ALERT.test(message),
  );
  if (alert) return clientCertificateFailure(alert.length > 60 ? "TLS alert" : alert, ctx, err);

  if (ctx.route.proxy) {
    const code = firstCode(err, (c) => UNREACHABLE.test(c));
    if (code) {
      const variable = ctx.route.variable ?? "HTTPS_PROXY";
      return new TransportError({
        kind: "proxy_unreachable",
        url,
        proxy,
        code,
        message: `could not reach the proxy ${proxy} (${variable}) to request ${url} (${code}).`,
        fix: `start the proxy or correct ${variable}; if ${target.hostname} is reachable without a proxy, add it to NO_PROXY`,
        cause: err,
      });
    }
  }
  return undefined;
}

/** Whether a failure looks like a connection the server closed after the handshake. */
export function looksClosedAfterHandshake(err: unknown): boolean {
  for (let link = err, depth = 0; link && typeof link === "object" && depth < 6; depth += 1) {
    const { code, message } = link as { code?: unknown; message?: unknown };
    if (code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "ConnectionClosed")
      return true;
    if (typeof message === "string" && /other side closed|socket hang up/i.test(message))
      return true;
    link = (link as { cause?: unknown }).cause;
  }
  return false;
}
