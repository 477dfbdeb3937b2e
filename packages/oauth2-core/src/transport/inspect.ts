import { createPrivateKey, X509Certificate } from "node:crypto";
import { type ProxyRoute, proxyFor } from "./proxy-env.js";
import { hasTlsFiles, type TlsFiles, tlsMaterial } from "./tls-material.js";
import type { TlsInspection } from "./tls-probe.js";

/** The client certificate of `tls.certFile`, as read from the file. */
export interface ClientCertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  /** Whether `tls.keyFile` is the private key of this certificate. */
  readonly keyMatches: boolean;
}

/** The network path to one URL, as `doctor` reports it. */
export interface NetworkPath {
  readonly url: string;
  /** Direct, or the proxy (its URL still with credentials: redact before showing). */
  readonly route: ProxyRoute;
  /** What the server's certificate is verified against, in words. */
  readonly trust: string;
  /** One real handshake (https only), through the same proxy. */
  readonly tls?: TlsInspection | undefined;
  readonly certificate?: ClientCertificateInfo | undefined;
  /** A tls.* file could not be read: the message. */
  readonly filesProblem?: string | undefined;
}

function certificateInfo(cert: string, key: string | undefined): ClientCertificateInfo {
  const x509 = new X509Certificate(cert);
  let keyMatches = false;
  try {
    keyMatches = key !== undefined && x509.checkPrivateKey(createPrivateKey(key));
  } catch {
    keyMatches = false;
  }
  const oneLine = (dn: string) => dn.split("\n").join(", ");
  return {
    subject: oneLine(x509.subject),
    issuer: oneLine(x509.issuer),
    validFrom: new Date(x509.validFrom),
    validTo: new Date(x509.validTo),
    keyMatches,
  };
}

/**
 * Where a request to `url` goes (proxy or direct, and why), what it trusts, what one handshake
 * shows, and the client certificate's dates and key. Loads node:tls (and nothing of undici).
 */
export async function inspectNetworkPath(
  url: string,
  options: { tls?: TlsFiles | undefined; env?: NodeJS.ProcessEnv | undefined } = {},
): Promise<NetworkPath> {
  const env = options.env ?? process.env;
  const route = proxyFor(url, env);
  const files = hasTlsFiles(options.tls) ? options.tls : undefined;
  const extra = env.NODE_EXTRA_CA_CERTS
    ? ` and NODE_EXTRA_CA_CERTS (${env.NODE_EXTRA_CA_CERTS})`
    : "";
  const trust = files?.caFile
    ? `tls.caFile (${files.caFile}), the system's CAs${extra}`
    : `the system's CAs${extra}`;
  let material: Awaited<ReturnType<typeof tlsMaterial>> | undefined;
  try {
    material = files ? await tlsMaterial(files) : undefined;
  } catch (err) {
    return { url, route, trust, filesProblem: (err as Error).message };
  }
  const certificate = material?.cert ? certificateInfo(material.cert, material.key) : undefined;
  if (!url.startsWith("https:")) return { url, route, trust, certificate };
  const { connectOptions } = await import("./node-dispatcher.js");
  const { inspectTls } = await import("./tls-probe.js");
  const connect = await connectOptions(
    material ?? { ca: undefined, cert: undefined, key: undefined },
  );
  // A certificate whose key does not match cannot be used in a handshake at all.
  if (certificate && !certificate.keyMatches) {
    delete connect.cert;
    delete connect.key;
  }
  const tls = await inspectTls(url, route.proxy, connect);
  return { url, route, trust, tls, certificate };
}
