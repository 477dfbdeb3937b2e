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

/** One handshake with the same trust and certificate as the failed request, and one request. */
export async function probeClientCertificate(
  url: string,
  proxy: string | undefined,
  connectOptions: {
    ca?: string[] | undefined;
    cert?: string | undefined;
    key?: string | undefined;
  },
): Promise<ProbeVerdict> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port) || 443;
  let socket: Socket | undefined;
  try {
    if (proxy) socket = await tunnel(proxy, host, port);
  } catch {
    return { kind: "unknown" };
  }
  return new Promise((resolve) => {
    let answered = false;
    let verdict: ProbeVerdict = { kind: "unknown" };
    const tls: TLSSocket = connect({
      ...(socket ? { socket } : { host, port }),
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      ...connectOptions,
    });
    const timer = setTimeout(() => tls.destroy(), PROBE_TIMEOUT_MS);
    tls.once("secureConnect", () => {
      verdict = { kind: "closed" };
      tls.write(`HEAD / HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`);
    });
    tls.on("data", () => {
      answered = true;
    });
    tls.once("error", (err: NodeJS.ErrnoException) => {
      verdict = /ALERT/.test(err.code ?? "")
        ? { kind: "alert", code: err.code as string }
        : verdict;
    });
    tls.once("close", () => {
      clearTimeout(timer);
      resolve(answered ? { kind: "unknown" } : verdict);
    });
  });
}
