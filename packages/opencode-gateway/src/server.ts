import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { TlsOptions } from "node:tls";
import { getRequestListener } from "@hono/node-server";
import { outboundFetch as transportFetch } from "@vymalo/oauth2-core";
import { Hono } from "hono";
import type { JWTVerifyGetKey } from "jose";
import { type AuthEnv, type AuthOptions, bearerAuth, wwwAuthenticate } from "./auth.js";
import { createCallPolicy } from "./call-policy.js";
import type { GatewayConfig, GatewayConfigInput } from "./config.js";
import { parseConfig } from "./config-parse.js";
import { createDemoModel } from "./demo-model.js";
import { etagOf, matchesEtag } from "./etag.js";
import { compileTrust } from "./forwarded.js";
import { closeGracefully, listen } from "./http-server.js";
import { createIntrospector } from "./introspection.js";
import { cachedIntrospection } from "./introspection-cache.js";
import { type FetchLike, issuerKeySource } from "./jwks.js";
import { readListenTls, reloadListenTls } from "./listen-tls.js";
import { jsonLogger, type Logger } from "./log.js";
import { buildManifest, type Manifest } from "./manifest.js";
import { buildModelsInfo } from "./models-info.js";
import { createOutboundBudget, KEY_FETCH_LIMITS } from "./outbound-budget.js";
import {
  buildProtectedResourceMetadata,
  protectedResourceMetadataUrl,
  protectedResourcePaths,
} from "./protected-resource.js";
import { refuseDeclaredTooLarge, refuseEncodedPaths } from "./request-guards.js";
import { createV1Handler, isProxied } from "./v1/handler.js";
import type { V1Hooks } from "./v1/hooks.js";
import { createUpstream, type Upstream } from "./v1/upstream.js";
import { createTokenVerifier, policyFromConfig, rejection } from "./verify-token.js";

/**
 * The gateway: routes wired to the verifier, the manifest, the models-info document and the
 * `/v1/*` request path (v1/handler.ts, on Node's raw request and response; the other routes go
 * through Hono). Stateless — keys, accepted tokens and introspection answers are cached in
 * memory per instance, there are no sessions — so any number of instances can run behind a
 * load balancer.
 *
 *   GET  /healthz               liveness (never depends on the IdP or the upstream)
 *   GET  /.well-known/opencode  the public manifest
 *   GET  /v1/models-info        bearer: OpenRouter-shaped model metadata, ETag/304
 *   *    /v1/*                  bearer: proxied to the upstream (or the demo model), streamed
 */

export interface GatewayDeps {
  /** Outbound HTTP for discovery, JWKS and introspection (default: global fetch). */
  fetch?: FetchLike;
  logger?: Logger;
  /** Replaces the issuer's JWKS as the key source (tests with local keys). */
  keys?: JWTVerifyGetKey;
  /** The clock used for exp/nbf (default: the system clock). */
  now?: () => Date;
  /** What decides about a `/v1/*` call beyond its token (v1/hooks.ts). */
  hooks?: V1Hooks;
}

export interface Gateway {
  readonly app: Hono<AuthEnv>;
  readonly config: GatewayConfig;
  readonly manifest: Manifest;
  /**
   * Listens on `port`/`host` (default: the config's `listen`); resolves with the bound URL, and
   * the metrics listener's when `metrics` is configured.
   */
  start(port?: number, host?: string): Promise<{ url: string; port: number; metricsUrl?: string }>;
  /**
   * What `start` reads before it listens, and `--check` too: the TLS files (`listen.tls`,
   * `upstream.tls.caFile`) and the model server's route (a proxy variable that is no http URL).
   * Rejects with a TransportError naming the field or variable and the fix.
   */
  prepare(): Promise<TlsOptions | undefined>;
  /**
   * With `listen.tls`: reads the certificate files again now (the bin does it on SIGHUP; it is
   * also done every `listen.tls.reloadSec`), and serves new connections with them when they
   * changed and make a usable pair.
   */
  reloadTls(): Promise<void>;
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
  // The core's one transport: HTTPS_PROXY/HTTP_PROXY/NO_PROXY (Node's fetch ignores them).
  const outboundFetch: FetchLike = deps.fetch ?? transportFetch();
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
  const upstreamAt = (baseURL: string, demoModel = false) =>
    createUpstream({
      baseURL,
      apiKey: config.upstream.apiKey,
      subjectHeader: config.upstream.subjectHeader,
      // The demo model is the gateway's own, on loopback: never through a proxy.
      ...(demoModel ? { env: {} } : { logger, tls: config.upstream.tls }),
    });
  // The demo model is served on its own loopback port once the gateway starts, so that it is
  // reached through the same request path as a real upstream.
  let upstream: Upstream | undefined = config.upstream.baseURL
    ? upstreamAt(config.upstream.baseURL)
    : undefined;

  const manifest = buildManifest(config);
  const manifestBody = JSON.stringify(manifest);
  const manifestDoc = { body: manifestBody, etag: etagOf(manifestBody) };
  const modelsInfo = buildModelsInfo(config.models);
  const resourceMetadata = protectedResourceMetadataUrl(config.publicUrl);
  // Access, quotas and metrics: the hooks of the /v1 request path (call-policy.ts).
  const policy = createCallPolicy(config, {
    logger,
    challenge: (scope, description) =>
      wwwAuthenticate(
        config.realm,
        rejection(403, "model_not_allowed", description, { scope }),
        resourceMetadata,
      ),
  });
  const resourceDoc = buildProtectedResourceMetadata({
    publicUrl: config.publicUrl,
    issuer: config.issuer,
    providerName: config.providerName,
    scopes: policy.scopes,
  });

  const app = new Hono<AuthEnv>();
  const authOptions: AuthOptions = {
    realm: config.realm,
    resourceMetadata,
    verify,
    recall: verify.recall,
    logger,
    certificateBinding: config.certificateBinding,
  };
  const auth = bearerAuth(authOptions);
  const hooks = deps.hooks ?? policy.hooks;
  const v1 = createV1Handler({
    auth: authOptions,
    upstream: () => {
      if (!upstream) throw new Error("the demo upstream is not started");
      return upstream;
    },
    headersTimeoutMs: config.upstream.headersTimeoutMs,
    bodyTimeoutMs: config.upstream.bodyTimeoutMs,
    maxBodyBytes: config.listen.maxBodyBytes,
    trust: compileTrust(config.listen.trustProxy),
    hooks,
    logger,
  });
  const ownPaths = new Set(["/v1/models-info", ...(hooks.ownPaths ?? [])]);

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
    policy.observe({
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      model: undefined,
      auth: c.get("authOutcome") ?? "none",
    });
  });
  app.use("/v1/*", refuseDeclaredTooLarge(config.listen.maxBodyBytes, logger));
  app.use("/v1/*", auth);
  app.get("/v1/models-info", (c) => {
    const document = policy.access?.modelsInfo(c.get("claims")) ?? modelsInfo;
    const response = etagged(
      document.body,
      document.etag,
      c.req.header("if-none-match"),
      "private, no-cache",
    );
    response.headers.set("vary", "authorization");
    return response;
  });
  const { access } = policy;
  if (access) {
    app.get("/v1/models", (c) => {
      c.header("cache-control", "private, no-store");
      return c.json(access.modelList(c.get("claims")));
    });
  }
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

  const viaHono = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (isProxied(req.url, ownPaths)) v1(req, res);
    else void viaHono(req, res);
  };
  let server: Server | undefined;
  let demoServer: Server | undefined;
  let tlsReloader: ReturnType<typeof reloadListenTls> | undefined;
  const prepare = async (): Promise<TlsOptions | undefined> => {
    const { tls } = config.listen;
    const tlsOptions = tls ? await readListenTls(tls) : undefined;
    await upstream?.ready();
    return tlsOptions;
  };

  return {
    app,
    config,
    manifest,
    prepare,
    async start(port = config.listen.port, host = config.listen.host) {
      if (server) throw new Error("the gateway is already started");
      const { tls } = config.listen;
      // The TLS files and the route first: a wrong one stops the start before anything listens.
      const tlsOptions = await prepare();
      if (demo && !demoServer) {
        const started = await listen(getRequestListener(demo.fetch), 0, "127.0.0.1");
        demoServer = started.server;
        upstream = upstreamAt(`http://127.0.0.1:${started.port}/v1`, true);
      }
      // Metrics first, so that the first request is already counted.
      const metrics = await policy.start();
      const started = await listen(listener, port, host, tlsOptions);
      server = started.server;
      if (tls && tlsOptions) {
        tlsReloader = reloadListenTls(started.server as HttpsServer, tls, tlsOptions, logger);
      }
      const bound = started.port;
      const shown = host.includes(":") ? `[${host}]` : host;
      logger.emit("gateway_listening", {
        host,
        port: bound,
        publicUrl: config.publicUrl,
        tls: Boolean(tls),
        ...(tls ? { clientCertificate: tls.clientCertificate } : {}),
        certificateBinding: config.certificateBinding,
      });
      return { url: `${tls ? "https" : "http"}://${shown}:${bound}`, port: bound, ...metrics };
    },
    async reloadTls() {
      await tlsReloader?.check();
    },
    async close() {
      tlsReloader?.stop();
      tlsReloader = undefined;
      const current = server;
      server = undefined;
      if (current) await closeGracefully(current, config.listen.shutdownGraceMs);
      await policy.close();
      upstream?.close();
      const demoCurrent = demoServer;
      demoServer = undefined;
      if (demoCurrent) await closeGracefully(demoCurrent, 0);
    },
  };
}
