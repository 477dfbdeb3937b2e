import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { compileTrust } from "./forwarded.js";
import type { Logger } from "./log.js";
import type { GatewayMetrics } from "./metrics.js";
import type { MetricsConfig } from "./metrics-config.js";

/**
 * The metrics listener: `GET /metrics` in Prometheus' text format, on its own host and port
 * (metrics-config.ts says why), answered only to the addresses `allowFrom` lists when it is set.
 * X-Forwarded-For is not read here: the scraper connects directly, and its socket address is
 * the one checked.
 */

export interface MetricsListener {
  start(): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

export function createMetricsListener(
  config: MetricsConfig,
  metrics: GatewayMetrics,
  logger: Logger,
): MetricsListener {
  const allowed = config.allowFrom ? compileTrust(config.allowFrom) : () => true;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, text: string) =>
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(text);
    if (!allowed(req.socket.remoteAddress ?? "", 0)) return send(403, "forbidden\n");
    if (path !== "/metrics") return send(404, "not found: the metrics are at /metrics\n");
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "GET only\n");
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, {
          "content-type": metrics.registry.contentType,
          "cache-control": "no-store",
        });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (error: unknown) => {
        logger.emit("gateway_internal_error", { path: "/metrics", detail: String(error) });
        send(500, "internal error\n");
      },
    );
  });
  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(config.port, config.host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      const port = (server.address() as AddressInfo).port;
      const shown = config.host.includes(":") ? `[${config.host}]` : config.host;
      logger.emit("gateway_metrics_listening", { host: config.host, port });
      return { url: `http://${shown}:${port}`, port };
    },
    async close() {
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
