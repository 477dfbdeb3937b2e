import type { IncomingMessage, Server, ServerResponse } from "node:http";

/**
 * `Expect: 100-continue` (curl sends it for bodies over 1 MiB): the client waits for
 * `100 Continue` before it sends the body. Node answers it at once by default, before the
 * gateway has looked at the token; instead the gateway answers it only when it is about to
 * forward the body, so a refused request (401, 403, 413) is answered without the client ever
 * uploading it. The header itself is hop-by-hop and never forwarded (undici's fetch refuses it).
 */

/** Makes `server` leave `100 Continue` to {@link sendContinue}. */
export function deferContinue(server: Server): void {
  server.on("checkContinue", (request: IncomingMessage, response: ServerResponse) => {
    server.emit("request", request, response);
  });
}

/** Sends `100 Continue` when the client asked for it and nothing has been answered yet. */
export function sendContinue(
  incoming: IncomingMessage | undefined,
  outgoing: ServerResponse | undefined,
): void {
  const expect = incoming?.headers.expect;
  if (!outgoing || outgoing.headersSent || typeof expect !== "string") return;
  if (/^\s*100-continue\s*$/i.test(expect)) outgoing.writeContinue();
}
