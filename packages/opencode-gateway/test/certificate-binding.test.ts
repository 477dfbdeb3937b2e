import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayConfigInput } from "../src/index.js";
import type { FetchLike } from "../src/jwks.js";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { testConfig } from "./fixtures/gateway.js";
import { forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import {
  BOUND_CLIENT,
  boundToken,
  clientFetch,
  GATEWAY_CLIENT,
  introspectionEndpoint,
  type MtlsWorld,
  opaqueBoundToken,
  PLAIN_CLIENT,
  startMtlsWorld,
  unboundToken,
} from "./fixtures/mtls.js";
import { parseExposition } from "./fixtures/prometheus-text.js";
import { startUpstream, type Upstream } from "./fixtures/upstream.js";

/**
 * Certificate-bound access tokens (RFC 8705 §3) at the gateway's own TLS listener, through the
 * built bin: the real oidc-provider binds a token to the certificate its client authenticated
 * with (`cnf.x5t#S256`), and the gateway lets it through only on a connection that presents
 * that certificate — whatever it remembered about the token from an earlier request.
 */

let world: MtlsWorld;
let upstream: Upstream;
/** TLS, client certificates requested, certificateBinding by default ("when-bound"). */
let gw: BuiltGateway;
/** TLS, client certificates required, certificateBinding: "require". */
let strict: BuiltGateway;

const tlsConfig = (
  clientCertificate: "request" | "require",
  extra: Partial<GatewayConfigInput> = {},
): GatewayConfigInput =>
  testConfig(
    world.idp.issuer,
    { baseURL: upstream.baseURL },
    {
      audiences: [world.idp.audience],
      clients: [BOUND_CLIENT, PLAIN_CLIENT.id],
      requiredScopes: ["api:read"],
      listen: {
        host: "127.0.0.1",
        port: 0,
        tls: {
          certFile: world.server.certFile,
          keyFile: world.server.keyFile,
          caFile: world.ca.caFile,
          clientCertificate,
        },
      },
      ...extra,
    },
  );

beforeAll(async () => {
  world = await startMtlsWorld();
  upstream = await startUpstream();
  // The gateway reaches the https IdP (discovery, JWKS, introspection) through the test CA.
  const env = { NODE_EXTRA_CA_CERTS: world.ca.caFile };
  [gw, strict] = await Promise.all([
    startBuiltGateway(
      tlsConfig("request", {
        metrics: { port: 0 },
        introspection: {
          endpoint: introspectionEndpoint(world),
          clientId: GATEWAY_CLIENT.id,
          clientSecret: GATEWAY_CLIENT.secret,
        },
      }),
      env,
    ),
    startBuiltGateway(tlsConfig("require", { certificateBinding: "require" }), env),
  ]);
});
afterAll(async () => {
  await Promise.all([gw?.close(), strict?.close()]);
  await upstream?.close();
  await world?.close();
});
forgetUpstreamRequests(() => upstream);

const chat = (base: string, fetchImpl: FetchLike, token: string) =>
  fetchImpl(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "team/coder", messages: [] }),
  });

/**
 * A refusal for the binding: 401 invalid_token whose challenge describes it and points at the
 * RFC 9728 metadata, the body's `reason`, and the upstream not reached (it got only the
 * `passedBefore` calls of the test that were let through).
 */
async function expectRefused(response: Response, reason: string, passedBefore = 0) {
  expect(response.status).toBe(401);
  const challenge = response.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^Bearer realm="[^"]+", error="invalid_token", error_description="/);
  expect(challenge).toContain("certificate");
  expect(challenge).toContain(
    'resource_metadata="https://llm.example.test/.well-known/oauth-protected-resource"',
  );
  const body = (await response.json()) as { error: { reason: string } };
  expect(body.error.reason).toBe(reason);
  expect(upstream.chatRequests()).toHaveLength(passedBefore);
}

describe("the TLS listener", () => {
  it("serves over https: the URL it listens on and the manifest it publishes", async () => {
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const response = await clientFetch(world.ca)(`${gw.url}/.well-known/opencode`);
    expect(response.status).toBe(200);
    const manifest = (await response.json()) as { auth: { command: string[] } };
    expect(manifest.auth.command).toContain("https://llm.example.test");
    const listening = await gw.logged("gateway_listening");
    expect(listening[0]).toMatchObject({ tls: true, clientCertificate: "request" });
  });

  it("with clientCertificate: require, refuses a connection without a certificate", async () => {
    await expect(chat(strict.url, clientFetch(world.ca), "x")).rejects.toThrow();
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("a certificate-bound token (when-bound)", () => {
  it("passes with the certificate it is bound to", async () => {
    const response = await chat(gw.url, clientFetch(world.ca, world.bot), await boundToken(world));
    expect(response.status).toBe(200);
    expect(upstream.chatRequests()).toHaveLength(1);
    // The upstream is told the client came over https.
    expect(upstream.chatRequests()[0]?.headers["x-forwarded-proto"]).toBe("https");
  });

  it("is refused with another certificate, and the upstream is not reached", async () => {
    const response = await chat(
      gw.url,
      clientFetch(world.ca, world.other),
      await boundToken(world),
    );
    await expectRefused(response, "certificate_mismatch");
    const refused = await gw.logged("gateway_certificate_binding_refused");
    expect(refused.at(-1)).toMatchObject({
      reason: "certificate_mismatch",
      status: 401,
      path: "/v1/chat/completions",
      // oidc-provider's client_credentials tokens name their client as the subject
      sub: BOUND_CLIENT,
      certificate: "CN=other-bot",
    });
  });

  it("is refused on a connection that presents no certificate", async () => {
    const response = await chat(gw.url, clientFetch(world.ca), await boundToken(world));
    await expectRefused(response, "certificate_missing");
  });

  it("stays refused on another certificate after it passed (the remembered verdict is not enough)", async () => {
    const token = await boundToken(world);
    expect((await chat(gw.url, clientFetch(world.ca, world.bot), token)).status).toBe(200);
    const stolen = await chat(gw.url, clientFetch(world.ca, world.other), token);
    await expectRefused(stolen, "certificate_mismatch", 1);
    expect((await chat(gw.url, clientFetch(world.ca, world.bot), token)).status).toBe(200);
    expect(upstream.chatRequests()).toHaveLength(2);
  });

  it("on the gateway's own routes too (/v1/models-info)", async () => {
    const token = await boundToken(world);
    const get = (fetchImpl: FetchLike) =>
      fetchImpl(`${gw.url}/v1/models-info`, { headers: { authorization: `Bearer ${token}` } });
    expect((await get(clientFetch(world.ca, world.bot))).status).toBe(200);
    await expectRefused(await get(clientFetch(world.ca, world.other)), "certificate_mismatch");
  });

  it("an opaque token's introspected cnf is checked the same way (RFC 8705 §3.2)", async () => {
    const token = await opaqueBoundToken(world);
    expect(token.split(".")).toHaveLength(1);
    expect((await chat(gw.url, clientFetch(world.ca, world.bot), token)).status).toBe(200);
    // The introspection answer is remembered (cacheSec 60): the check still runs per request.
    const stolen = await chat(gw.url, clientFetch(world.ca, world.other), token);
    await expectRefused(stolen, "certificate_mismatch", 1);
  });
});

describe("a certificate-bound token that lacks a required scope", () => {
  let writer: BuiltGateway;
  beforeAll(async () => {
    writer = await startBuiltGateway(tlsConfig("request", { requiredScopes: ["api:write"] }), {
      NODE_EXTRA_CA_CERTS: world.ca.caFile,
    });
  });
  afterAll(async () => {
    await writer?.close();
  });

  it("from another certificate: 401 for the binding, telling nothing of what the token may do", async () => {
    const response = await chat(
      writer.url,
      clientFetch(world.ca, world.other),
      await boundToken(world),
    );
    await expectRefused(response, "certificate_mismatch");
    expect(response.headers.get("www-authenticate")).not.toContain("api:write");
    expect(await writer.logged("gateway_certificate_binding_refused")).toHaveLength(1);
    expect(writer.logs().filter((r) => r.event === "gateway_auth_rejected")).toEqual([]);
  });

  it("from its own certificate: 403 insufficient_scope, naming the scope", async () => {
    const response = await chat(
      writer.url,
      clientFetch(world.ca, world.bot),
      await boundToken(world),
    );
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(response.headers.get("www-authenticate")).toContain('scope="api:write"');
    expect(upstream.chatRequests()).toHaveLength(0);
  });
});

describe("an unbound token", () => {
  it("passes where binding is checked only when a token is bound (when-bound)", async () => {
    const token = await unboundToken(world);
    expect((await chat(gw.url, clientFetch(world.ca, world.other), token)).status).toBe(200);
    expect((await chat(gw.url, clientFetch(world.ca), token)).status).toBe(200);
    expect(upstream.chatRequests()).toHaveLength(2);
  });

  it("is refused where certificateBinding is require", async () => {
    const response = await chat(
      strict.url,
      clientFetch(world.ca, world.bot),
      await unboundToken(world),
    );
    await expectRefused(response, "token_not_bound");
  });

  it("while a bound token with its certificate passes there", async () => {
    const response = await chat(
      strict.url,
      clientFetch(world.ca, world.bot),
      await boundToken(world),
    );
    expect(response.status).toBe(200);
    expect(upstream.chatRequests()).toHaveLength(1);
  });
});

describe("/metrics", () => {
  it("counts the binding refusals by their reason", async () => {
    // The metrics listener stays plain http, on its own port.
    const [listening] = await gw.logged("gateway_metrics_listening");
    const response = await fetch(`http://127.0.0.1:${listening?.port as number}/metrics`);
    const parsed = parseExposition(await response.text());
    const refusals = (auth: string) =>
      parsed.value("opencode_gateway_requests_total", {
        route: "/v1/chat/completions",
        status: "401",
        model: "none",
        auth,
      });
    expect(refusals("certificate_missing")).toBe(1);
    expect(refusals("certificate_mismatch")).toBeGreaterThan(0);
    expect(refusals("other")).toBeUndefined();
  });
});
