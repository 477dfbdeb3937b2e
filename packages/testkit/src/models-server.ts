import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A small team models server on 127.0.0.1: the metadata document and an OpenAI model list. */
export interface ModelsServer {
  /** `http://127.0.0.1:<port>/v1`: the provider's baseURL. */
  readonly baseURL: string;
  readonly requests: readonly ServedRequest[];
  /** Requests to `path` (default: every path). */
  count(path?: string): number;
  /** The highest number of requests in flight at once. */
  readonly maxInFlight: number;
  /** The document at /v1/models-info.json (a string is served as it is); changes the ETag. */
  setDocument(body: unknown): void;
  /** Ids served at /v1/models. */
  setModelList(ids: string[]): void;
  /** How every next request is answered. */
  /** `endless`: a 200 that streams JSON-looking bytes until the client hangs up. */
  mode: "ok" | "error500" | "malformed" | "slow" | "endless";
  /** How long `slow` waits before answering. */
  slowMs: number;
  /** How much an `endless` answer had queued when the client hung up (-1: never hung up). */
  endlessBytesBeforeHangUp: number;
  /** Answer 401 to this token from now on. */
  revoke(token: string): void;
  close(): Promise<void>;
}

export interface ServedRequest {
  path: string;
  status: number;
  /** The bearer sent, if any. */
  token: string | undefined;
  ifNoneMatch: string | undefined;
}

export const DOCUMENT_PATH = "/v1/models-info.json";
export const LIST_PATH = "/v1/models";

const etagOf = (text: string) =>
  `"${createHash("sha256").update(text).digest("hex").slice(0, 16)}"`;

/**
 * `verify` decides whether a bearer is valid (e.g. the IdP's signature check); without it no
 * token is required. Revoked tokens get a 401 even when they verify.
 */
export async function startModelsServer(
  options: { verify?: (token: string) => Promise<boolean>; document?: unknown } = {},
): Promise<ModelsServer> {
  let documentText = "[]";
  let listText = JSON.stringify({ object: "list", data: [] });
  const requests: ServedRequest[] = [];
  const revoked = new Set<string>();
  let inFlight = 0;
  let maxInFlight = 0;

  const answer = async (req: IncomingMessage, res: ServerResponse, record: ServedRequest) => {
    const header = req.headers.authorization;
    record.token = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
    record.ifNoneMatch = req.headers["if-none-match"];
    const send = (status: number, body = "", headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(body);
    };
    if (options.verify) {
      const ok =
        record.token !== undefined &&
        !revoked.has(record.token) &&
        (await options.verify(record.token));
      if (!ok) return send(401, JSON.stringify({ error: "invalid_token" }));
    }
    if (server.mode === "slow") await new Promise((r) => setTimeout(r, server.slowMs));
    if (server.mode === "error500") return send(500, JSON.stringify({ error: "boom" }));
    if (server.mode === "malformed") return send(200, '{"data": [ {"id": "a"');
    if (server.mode === "endless") return streamEndlessly(res, record);
    const text =
      record.path === DOCUMENT_PATH ? documentText : record.path === LIST_PATH ? listText : "";
    if (!text) return send(404, JSON.stringify({ error: "not found" }));
    const etag = etagOf(text);
    if (record.ifNoneMatch === etag) return send(304, "", { etag });
    return send(200, text, { etag });
  };

  const streamEndlessly = (res: ServerResponse, record: ServedRequest) =>
    new Promise<void>((resolve) => {
      record.status = 200;
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.from(`${'{"id":"team/filler","name":"filler"},'.repeat(1024)}`);
      res.write('{"data":[');
      let written = 0;
      const more = () => {
        while (!res.destroyed) {
          written += chunk.byteLength;
          if (!res.write(chunk)) return;
        }
      };
      res.on("drain", more);
      res.on("close", () => {
        server.endlessBytesBeforeHangUp = written;
        resolve();
      });
      more();
    });

  const http = createServer((req, res) => {
    const record: ServedRequest = {
      path: new URL(req.url ?? "/", "http://x").pathname,
      status: 0,
      token: undefined,
      ifNoneMatch: undefined,
    };
    requests.push(record);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    answer(req, res, record)
      .catch(() => res.writeHead(500).end())
      .finally(() => {
        inFlight -= 1;
      });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;

  const server: ModelsServer = {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    count: (path) => requests.filter((r) => path === undefined || r.path === path).length,
    get maxInFlight() {
      return maxInFlight;
    },
    setDocument(body) {
      documentText = typeof body === "string" ? body : JSON.stringify(body);
    },
    setModelList(ids) {
      listText = JSON.stringify({
        object: "list",
        data: ids.map((id) => ({ id, object: "model" })),
      });
    },
    mode: "ok",
    slowMs: 5000,
    endlessBytesBeforeHangUp: -1,
    revoke: (token) => revoked.add(token),
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
  if (options.document !== undefined) server.setDocument(options.document);
  return server;
}
