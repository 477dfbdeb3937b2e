import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIntrospector } from "../src/introspection.js";
import { createTokenVerifier, type TokenPolicy } from "../src/verify-token.js";

/**
 * RFC 7662 details the real IdP test cannot reach: answers the IdP would give for other token
 * kinds, a broken endpoint, and the client authentication the gateway sends. A loopback stub
 * plays the endpoint; the real client and verifier code run against it.
 */

const ISSUER = "https://login.example.test";
let server: Server;
let endpoint: string;
let answer: { status: number; body: unknown } = { status: 200, body: { active: false } };
const received: { authorization?: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    received.push({ authorization: req.headers.authorization, body });
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const policy: TokenPolicy = {
  issuer: ISSUER,
  audiences: ["https://llm.example.test"],
  clients: ["opencode-cli"],
  clientClaims: ["azp", "client_id"],
  algorithms: ["RS256"],
  clockToleranceSec: 30,
  requiredScopes: ["llm:use"],
  requiredGroups: [],
  groupsClaim: "groups",
};

const noKeys = async (): Promise<never> => {
  throw new Error("a JWT key was requested for an opaque token");
};

const verifier = (secret = "s3cret") =>
  createTokenVerifier(policy, {
    keys: noKeys,
    introspect: createIntrospector({
      endpoint,
      clientId: "llm-gateway",
      clientSecret: secret,
      timeoutMs: 2000,
    }),
  });

const nowSec = () => Math.floor(Date.now() / 1000);
const active = () => ({
  active: true,
  iss: ISSUER,
  aud: ["https://llm.example.test", "account"],
  client_id: "opencode-cli",
  scope: "openid llm:use",
  token_type: "Bearer",
  exp: nowSec() + 300,
});

describe("opaque tokens and RFC 7662", () => {
  it("sends the token with client authentication, and accepts an active answer", async () => {
    answer = { status: 200, body: active() };
    received.length = 0;
    const verdict = await verifier("p@ss:word+/")("opaque-token-1");
    expect(verdict).toMatchObject({ ok: true, via: "introspection" });
    const [request] = received;
    expect(new URLSearchParams(request?.body).get("token")).toBe("opaque-token-1");
    expect(new URLSearchParams(request?.body).get("token_type_hint")).toBe("access_token");
    // RFC 6749 §2.3.1: the secret is form-encoded before Basic encoding.
    const decoded = Buffer.from(request?.authorization?.slice(6) ?? "", "base64").toString();
    expect(decoded).toBe("llm-gateway:p%40ss%3Aword%2B%2F");
  });

  it.each([
    ["inactive", { active: false }, "inactive"],
    ["a refresh token", { ...active(), token_type: "refresh_token" }, "not_an_access_token"],
    ["another issuer", { ...active(), iss: "https://evil.example.test" }, "wrong_issuer"],
    ["expired per the answer", { ...active(), exp: nowSec() - 120 }, "expired"],
    ["no audience", { ...active(), aud: undefined }, "wrong_audience"],
    ["another audience", { ...active(), aud: "https://other.example.test" }, "wrong_audience"],
    ["another client", { ...active(), client_id: "someone-else" }, "client_not_allowed"],
  ])("refuses %s with 401", async (_name, body, reason) => {
    answer = { status: 200, body };
    const verdict = await verifier()("opaque-token-2");
    expect(verdict).toMatchObject({ ok: false, rejection: { status: 401, reason } });
  });

  it("refuses a missing scope with 403 insufficient_scope", async () => {
    answer = { status: 200, body: { ...active(), scope: "openid" } };
    const verdict = await verifier()("opaque-token-3");
    expect(verdict).toMatchObject({
      ok: false,
      rejection: { status: 403, error: "insufficient_scope", scope: "llm:use" },
    });
  });

  it.each([
    ["an HTTP error", { status: 401, body: { error: "invalid_client" } }],
    ["a non-object answer", { status: 200, body: ["active"] }],
    // 4 MiB of claims: read no further than the bound, never parsed whole.
    ["an oversized answer", { status: 200, body: { ...active(), pad: "x".repeat(4 << 20) } }],
  ])("answers 503 (not 401) when the endpoint gives %s", async (_name, reply) => {
    answer = reply;
    const verdict = await verifier()("opaque-token-4");
    expect(verdict).toMatchObject({
      ok: false,
      rejection: { status: 503, reason: "introspection_unavailable" },
    });
  });
});
