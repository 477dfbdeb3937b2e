import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { deferContinue } from "./expect-continue.js";

/**
 * The gateway's node:http server: listening, and closing gracefully. Node's own server runs
 * every request (the `/v1/*` request path on its raw request and response, the rest through
 * Hono's adapter), so nothing is converted to `Request`/`Response` on the hot path.
 */

/** Listens on `port`/`host` with `listener`; resolves with the server and its bound port. */
export async function listen(
  listener: RequestListener,
  port: number,
  host: string,
): Promise<{ server: Server; port: number }> {
  const server = createServer(listener);
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
