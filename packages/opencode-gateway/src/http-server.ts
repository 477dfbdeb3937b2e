import { createServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TlsOptions } from "node:tls";
import { deferContinue } from "./expect-continue.js";

/**
 * The gateway's node:http server: listening, and closing gracefully. Node's own server runs
 * every request (the `/v1/*` request path on its raw request and response, the rest through
 * Hono's adapter), so nothing is converted to `Request`/`Response` on the hot path. With `tls`
 * (listen-tls.ts) it is node:https's, which is the same server on TLS sockets: requests, the
 * deferred `100 Continue` and the graceful close work alike.
 */

/**
 * Listens on `port`/`host` with `listener` (https with `tls`); resolves with the server and its
 * bound port.
 */
export async function listen(
  listener: RequestListener,
  port: number,
  host: string,
  tls?: TlsOptions,
): Promise<{ server: Server; port: number }> {
  const server: Server = tls ? createHttpsServer(tls, listener) : createServer(listener);
  deferContinue(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * Stops accepting, lets open requests (streams) finish for `graceMs`, then cuts them.
 * Connections become idle as their streams end: they are closed as they do, not after the
 * keep-alive timeout.
 */
export function closeGracefully(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
