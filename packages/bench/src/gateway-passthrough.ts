import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The baseline of the gateway figure: the plainest reverse proxy Node can be, `node:http` in
 * and out with a keep-alive agent and `pipe` both ways, no checks at all. It removes the
 * hop-by-hop headers and nothing else. Run as its own process with the upstream's origin as its argument; prints its
 * port on stdout.
 */

const upstream = new URL(process.argv[2] ?? "");
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host"]);

const server = createServer((req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP.has(name)) headers[name] = value;
  }
  const outgoing = request(
    {
      agent,
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers,
    },
    (answer) => {
      const back: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP.has(name)) back[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, back);
      answer.pipe(res);
    },
  );
  outgoing.on("error", () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  res.on("close", () => outgoing.destroy());
  req.pipe(outgoing);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
