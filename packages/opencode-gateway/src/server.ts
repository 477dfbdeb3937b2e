import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import type { JWTVerifyGetKey } from "jose";
import { type AuthEnv, bearerAuth } from "./auth.js";
import type { GatewayConfig, GatewayConfigInput } from "./config.js";
import { parseConfig } from "./config-parse.js";
import { createDemoModel } from "./demo-model.js";
import { etagOf, matchesEtag } from "./etag.js";
import { deferContinue, sendContinue } from "./expect-continue.js";
import { clientView, compileTrust } from "./forwarded.js";
import { createIntrospector } from "./introspection.js";
import { cachedIntrospection } from "./introspection-cache.js";
import { type FetchLike, issuerKeySource } from "./jwks.js";
import { jsonLogger, type Logger } from "./log.js";
import { buildManifest, type Manifest } from "./manifest.js";
import { buildModelsInfo } from "./models-info.js";
import { createOutboundBudget, KEY_FETCH_LIMITS } from "./outbound-budget.js";
import {
  buildProtectedResourceMetadata,
  protectedResourceMetadataUrl,
  protectedResourcePaths,
} from "./protected-resource.js";
import { createProxy } from "./proxy.js";
import { refuseDeclaredTooLarge, refuseEncodedPaths } from "./request-guards.js";
import { createTokenVerifier, policyFromConfig } from "./verify-token.js";

/**
 * The gateway: routes wired to the verifier, the manifest, the models-info document and the
 * proxy. Stateless — keys and introspection answers are cached in memory per instance, there
 * are no sessions — so any number of instances can run behind a load balancer.
 *
 *   GET  /healthz               liveness (never depends on the IdP or the upstream)
 *   GET  /.well-known/opencode  the public manifest
 *   GET  /v1/models-info        bearer: OpenRouter-shaped model metadata, ETag/304
 *   *    /v1/*                  bearer: proxied to the upstream (or the demo model), streamed
 */

export interface GatewayDeps {
  /** Outbound HTTP for discovery, JWKS, introspection and the upstream (default: global fetch). */
  fetch?: FetchLike;
  logger?: Logger;
  /** Replaces the issuer's JWKS as the key source (tests with local keys). */
  keys?: JWTVerifyGetKey;
  /** The clock used for exp/nbf (default: the system clock). */
  now?: () => Date;
}

export interface Gateway {
  readonly app: Hono<AuthEnv>;
  readonly config: GatewayConfig;
  readonly manifest: Manifest;
  /** Listens on `port`/`host` (default: the config's `listen`); resolves with the bound URL. */
  start(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, lets open requests finish for `listen.shutdownGraceMs`, then cuts them. */
  close(): Promise<void>;
}

export function etagged(
  body: string,
  etag: string,
  ifNoneMatch: string | undefined,
  cache: string,
): Response {
  const headers = { etag, "cache-control": cache };
  if (matchesEtag(ifNoneMatch, etag)) return new Response(null, { status: 304, headers });
  return new Response(body, {
    headers: { ...headers, "content-type": "application/json; charset=utf-8" },
  });
}

export function createGateway(
  input: GatewayConfig | GatewayConfigInput,
  deps: GatewayDeps = {},
): Gateway {
  const config = parseConfig(input);
  const logger = deps.logger ?? jsonLogger();
  const outboundFetch: FetchLike = deps.fetch ?? ((input, init) => fetch(input, init));
  const perSec = config.introspection?.maxRequestsPerSec;
  const budget = createOutboundBudget({
    limits: {
      ...KEY_FETCH_LIMITS,
      ...(perSec ? { introspection: { burst: perSec, perSec } } : {}),
    },
    onExhausted: (reason, limit) =>
      logger.emit("gateway_outbound_budget_exhausted", { reason, ...limit }),
  });
  const keys =
    deps.keys ??
    issuerKeySource({
      issuer: config.issuer,
      jwksUri: config.jwksUri,
      fetch: outboundFetch,
      logger,
      budget,
    });
  const introspect = config.introspection
    ? cachedIntrospection(
        createIntrospector({
          ...config.introspection,
          fetch: budget.guard("introspection", outboundFetch),
        }),
        config.introspection,
      )
    : undefined;
  const verify = createTokenVerifier(policyFromConfig(config), {
    keys,
    introspect,
    ...(deps.now ? { now: deps.now } : {}),
  });

  const demo = config.upstream.demo
    ? createDemoModel({ models: config.models.map((m) => m.id) })
    : undefined;
  const proxy = createProxy({
    baseURL: config.upstream.baseURL ?? "http://demo.invalid/v1",
    apiKey: config.upstream.apiKey,
    headersTimeoutMs: config.upstream.headersTimeoutMs,
    subjectHeader: config.upstream.subjectHeader,
    maxBodyBytes: config.listen.maxBodyBytes,
    fetch: demo ? async (url, init) => demo.fetch(new Request(url, init)) : deps.fetch,
    logger,
  });

  const manifest = buildManifest(config);
  const manifestBody = JSON.stringify(manifest);
  const manifestDoc = { body: manifestBody, etag: etagOf(manifestBody) };
  const modelsInfo = buildModelsInfo(config.models);
  const resourceMetadata = protectedResourceMetadataUrl(config.publicUrl);
  const resourceDoc = buildProtectedResourceMetadata({
    publicUrl: config.publicUrl,
    issuer: config.issuer,
    providerName: config.providerName,
    scopes: config.requiredScopes,
  });

  const app = new Hono<AuthEnv>();
  const auth = bearerAuth({ realm: config.realm, resourceMetadata, verify, logger });
  const trust = compileTrust(config.listen.trustProxy);

  app.use("*", refuseEncodedPaths(logger));
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/.well-known/opencode", (c) =>
    etagged(
      manifestDoc.body,
      manifestDoc.etag,
      c.req.header("if-none-match"),
      "public, max-age=60",
    ),
  );
  for (const path of protectedResourcePaths(config.publicUrl)) {
    app.get(path, (c) =>
      etagged(
        resourceDoc.body,
        resourceDoc.etag,
        c.req.header("if-none-match"),
        "public, max-age=3600",
      ),
    );
  }
  app.use("/v1/*", async (c, next) => {
    const started = Date.now();
    await next();
    logger.emit("gateway_request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Date.now() - started,
    });
  });
  app.use("/v1/*", refuseDeclaredTooLarge(config.listen.maxBodyBytes, logger));
  app.use("/v1/*", auth);
  app.get("/v1/models-info", (c) => {
    const response = etagged(
      modelsInfo.body,
      modelsInfo.etag,
      c.req.header("if-none-match"),
      "private, no-cache",
    );
    response.headers.set("vary", "authorization");
    return response;
  });
  app.all("/v1/*", (c) =>
    proxy(c.req.raw, c.get("claims"), {
      client: clientView(c.env?.incoming?.socket.remoteAddress, c.req.raw.headers, trust),
      beforeBody: () => sendContinue(c.env?.incoming, c.env?.outgoing),
    }),
  );
  app.notFound((c) =>
    c.json(
      { error: { message: `no route for ${c.req.method} ${c.req.path}`, code: "not_found" } },
      404,
    ),
  );
  app.onError((error, c) => {
    logger.emit("gateway_internal_error", { path: c.req.path, detail: String(error) });
    return c.json({ error: { message: "internal error", code: "internal_error" } }, 500);
  });

  let server: Server | undefined;

  return {
    app,
    config,
    manifest,
    async start(port = config.listen.port, host = config.listen.host) {
      if (server) throw new Error("the gateway is already started");
      const created = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false });
      server = created as Server;
      deferContinue(server);
      await new Promise<void>((resolve, reject) => {
        created.once("error", reject);
        (created as Server).listen(port, host, () => {
          created.off("error", reject);
          resolve();
        });
      });
      const bound = (server.address() as AddressInfo).port;
      const shown = host.includes(":") ? `[${host}]` : host;
      logger.emit("gateway_listening", { host, port: bound, publicUrl: config.publicUrl });
      return { url: `http://${shown}:${bound}`, port: bound };
    },
    async close() {
      const current = server;
      server = undefined;
      if (!current?.listening) return;
      await new Promise<void>((resolve) => {
        // Connections become idle as their streams end: close them as they do, not after the
        // keep-alive timeout; cut whatever is still open when the grace period is over.
        const sweep = setInterval(() => current.closeIdleConnections(), 50);
        const force = setTimeout(
          () => current.closeAllConnections(),
          config.listen.shutdownGraceMs,
        );
        force.unref();
        current.close(() => {
          clearInterval(sweep);
          clearTimeout(force);
          resolve();
        });
        current.closeIdleConnections();
      });
    },
  };
}
