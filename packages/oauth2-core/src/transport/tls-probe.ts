import { request } from "node:http";
import type { Socket } from "node:net";
import { connect, type TLSSocket } from "node:tls";

/**
 * Why a server closed the connection right after the TLS handshake. With TLS 1.3 a server
 * refuses a missing or unknown client certificate only after the client thinks the handshake is
 * done, and fetch reports just "other side closed" / ECONNRESET. One more handshake, on a bare
 * TLS socket, sees the server's alert (`…ALERT_CERTIFICATE_REQUIRED`) or that it closes without
 * answering a request. Loaded only after such a failure.
 */
export type ProbeVerdict =
  /** The alert's code, e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED. */
  | { kind: "alert"; code: string }
  /** Handshake done, then closed without a byte of answer: our certificate was not accepted. */
  | { kind: "closed" }
  /** It answered, or the probe could not tell. */
  | { kind: "unknown" };

const PROBE_TIMEOUT_MS = 3000;

/** A CONNECT tunnel through the proxy (credentials from its URL), for the probe only. */
function tunnel(proxy: string, host: string, port: number): Promise<Socket> {
  const via = new URL(proxy);
  const headers: Record<string, string> = { host: `${host}:${port}` };
  if (via.username) {
    const credentials = `${decodeURIComponent(via.username)}:${decodeURIComponent(via.password)}`;
    headers["proxy-authorization"] = `Basic ${Buffer.from(credentials).toString("base64")}`;
  }
  return new Promise((resolve, reject) => {
    const req = request({
      host: via.hostname,
      port: Number(via.port) || 80,
      method: "CONNECT",
      path: `${host}:${port}`,
      headers,
      timeout: PROBE_TIMEOUT_MS,
    });
    req.once("connect", (res, socket) => {
      if (res.statusCode === 200) resolve(socket);
      else {
        socket.destroy();
        reject(new Error(`proxy answered ${res.statusCode}`));
      }
    });
    req.once("error", reject);
    req.once("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

export interface ConnectOptions {
  ca?: string[] | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

/** What one TLS handshake to a server showed (doctor's network check reports it). */
export interface TlsInspection {
  /** The connection (or the proxy's tunnel) could not be opened: why. */
  readonly unreachable?: string | undefined;
  /** The handshake completed. */
  readonly handshake: boolean;
  /** The server's certificate verified against the trust given. */
  readonly verified: boolean;
  /** Node's verification error when it did not (`SELF_SIGNED_CERT_IN_CHAIN`…). */
  readonly verifyError?: string | undefined;
  /** Subject CN (or O) of the server's certificate and of the last certificate of its chain. */
  readonly serverSubject?: string | undefined;
  readonly chainEnd?: string | undefined;
  /** A TLS alert the server sent (about our certificate, mostly). */
  readonly alert?: string | undefined;
  /** The server answered an HTTP request on the connection. */
  readonly answered: boolean;
}

type PeerCert = { subject?: Record<string, string>; issuerCertificate?: PeerCert; raw?: Buffer };
const nameOf = (cert: PeerCert | undefined) => cert?.subject?.CN ?? cert?.subject?.O;

function chainEnd(cert: PeerCert | undefined): string | undefined {
  let current = cert;
  for (let depth = 0; current?.issuerCertificate && depth < 10; depth += 1) {
    if (
      current.issuerCertificate === current ||
      current.issuerCertificate.raw?.equals(current.raw ?? Buffer.alloc(0))
    )
      break;
    current = current.issuerCertificate;
  }
  return nameOf(current);
}

/**
 * One handshake, through the proxy's tunnel when there is one, that verifies without refusing
 * (so the chain can be shown) and sends one HEAD request.
 */
export async function inspectTls(
  url: string,
  proxy: string | undefined,
  connectOptions: ConnectOptions,
): Promise<TlsInspection> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port) || 443;
  let socket: Socket | undefined;
  try {
    if (proxy) socket = await tunnel(proxy, host, port);
  } catch (err) {
    return {
      unreachable: (err as Error).message,
      handshake: false,
      verified: false,
      answered: false,
    };
  }
  return new Promise((resolve) => {
    let result: TlsInspection = { handshake: false, verified: false, answered: false };
    const tls: TLSSocket = connect({
      ...(socket ? { socket } : { host, port }),
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      rejectUnauthorized: false,
      ...connectOptions,
    });
    const timer = setTimeout(() => tls.destroy(), PROBE_TIMEOUT_MS);
    tls.once("secureConnect", () => {
      const peer = tls.getPeerCertificate(true) as PeerCert;
      result = {
        ...result,
        handshake: true,
        verified: tls.authorized,
        verifyError: tls.authorizationError
          ? String((tls.authorizationError as NodeJS.ErrnoException).code ?? tls.authorizationError)
          : undefined,
        serverSubject: nameOf(peer),
        chainEnd: chainEnd(peer),
      };
      tls.write(`HEAD / HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`);
    });
    tls.on("data", () => {
      result = { ...result, answered: true };
    });
    tls.once("error", (err: NodeJS.ErrnoException) => {
      if (/ALERT/.test(err.code ?? "")) result = { ...result, alert: err.code };
      else if (!result.handshake) result = { ...result, unreachable: err.code ?? err.message };
    });
    tls.once("close", () => {
      clearTimeout(timer);
      resolve(result);
    });
  });
}

/** Why the server closed a connection fetch saw fail: its alert, or a hang-up after the handshake. */
export async function probeClientCertificate(
  url: string,
  proxy: string | undefined,
  connectOptions: ConnectOptions,
): Promise<ProbeVerdict> {
  const seen = await inspectTls(url, proxy, connectOptions);
  if (seen.alert) return { kind: "alert", code: seen.alert };
  if (seen.handshake && seen.verified && !seen.answered) return { kind: "closed" };
  return { kind: "unknown" };
}
