import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLogger,
  type LogRecord,
  type ProviderConfig,
  parseProviderConfig,
  TokenEngine,
} from "@vymalo/oauth2-core";
import { PLUGIN_EVENTS } from "../src/events.js";

export async function tempEngine(
  options: { openBrowser?: (url: string) => Promise<boolean> } = {},
) {
  const cacheDir = await mkdtemp(join(tmpdir(), "plugin-"));
  const records: LogRecord[] = [];
  const logger = createLogger({
    sink: (r) => records.push(r),
    level: "debug",
    events: PLUGIN_EVENTS,
  });
  const engine = new TokenEngine({
    cacheDir,
    logger,
    openBrowser:
      options.openBrowser ??
      (async () => {
        throw new Error("propagation must never open a browser");
      }),
  });
  return {
    engine,
    logger,
    records,
    cacheDir,
    cleanup: () => rm(cacheDir, { recursive: true, force: true }),
  };
}

export function providerFor(id: string, raw: Record<string, unknown>): ProviderConfig {
  const parsed = parseProviderConfig(id, raw);
  if (!("config" in parsed)) throw new Error(parsed.issues.map((i) => i.message).join("\n"));
  return parsed.config;
}

/** A tiny resource server: records Authorization headers, answers 401 on demand. */
export async function startResourceServer() {
  const seen: IncomingHttpHeaders[] = [];
  const bodies: string[] = [];
  let unauthorizedLeft = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      seen.push(req.headers);
      bodies.push(body);
      if (unauthorizedLeft > 0) {
        unauthorizedLeft -= 1;
        res.writeHead(401, { "www-authenticate": 'Bearer error="invalid_token"' }).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  return {
    url,
    seen,
    bodies,
    failNext(n: number) {
      unauthorizedLeft = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const events = (records: LogRecord[], name: string) =>
  records.filter((r) => r.event === name);
