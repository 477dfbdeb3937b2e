import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RewritingProxyOptions {
  /** Every answer's `Date` header is moved by this much (the IdP's clock is off). */
  clockSkewMs?: number;
}

export interface RewritingProxy {
  /** The proxy's origin: the issuer to configure. */
  readonly issuer: string;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "content-length", "transfer-encoding", "keep-alive"]);

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * An IdP as a client sees it through another origin: every request is passed to `upstream`,
 * JSON answers name the proxy instead (so its discovery document is self-consistent), and the
 * IdP's clock, as its `Date` header shows it, is moved.
 */
export async function startRewritingProxy(
  upstream: string,
  options: RewritingProxyOptions = {},
): Promise<RewritingProxy> {
  let origin = "";
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string" && name !== "host" && !HOP_BY_HOP.has(name)) {
        headers.set(name, value);
      }
    }
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await bodyOf(req);
    const answer = await fetch(`${upstream}${req.url}`, {
      method: req.method,
      headers,
      body,
      redirect: "manual",
    });
    let payload = Buffer.from(await answer.arrayBuffer());
    if (answer.headers.get("content-type")?.includes("json")) {
      payload = Buffer.from(payload.toString("utf8").split(upstream).join(origin));
    }
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name) && name !== "content-encoding") out[name] = value;
    });
    if (out.location) out.location = out.location.split(upstream).join(origin);
    const date = Date.parse(answer.headers.get("date") ?? "") || Date.now();
    out.date = new Date(date + (options.clockSkewMs ?? 0)).toUTCString();
    out["content-length"] = String(payload.length);
    res.sendDate = false;
    res.writeHead(answer.status, out);
    res.end(payload);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer: origin,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
