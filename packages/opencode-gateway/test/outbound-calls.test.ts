import { describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { AUDIENCE, CLI_CLIENT, cliToken, testConfig } from "./fixtures/gateway.js";
import { issuerPerTest } from "./fixtures/lifecycle.js";

/**
 * Requests nobody authenticated must not buy outbound calls to the IdP: the same junk token
 * a hundred times costs at most one introspection; a flood of JWT-shaped strings with unknown
 * key ids, while discovery or the JWKS fail, costs a few fetches, not one each. Counted at the
 * IdP, through the built gateway.
 */

const t = issuerPerTest<BuiltGateway>();

const withIntrospection = (extra: Record<string, unknown> = {}) =>
  testConfig(
    t.idp.issuer,
    { demo: true },
    {
      introspection: {
        endpoint: t.idp.introspectionEndpoint,
        clientId: "llm-gateway",
        clientSecret: "s3cret",
        ...extra,
      },
    },
  );

const get = async (token: string) => {
  const response = await fetch(`${t.gw?.url}/v1/models`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as { error?: { reason: string } };
  return { status: response.status, reason: body.error?.reason };
};

/** A JWT-shaped string naming a key the issuer never published; its signature is junk. */
const unknownKid = (i: number) => {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", kid: `made-up-${i}` })}.${part({ iss: t.idp.issuer })}.c2ln`;
};

describe("introspection answers are remembered", () => {
  it("100 requests with the same junk token cost at most one introspection", async () => {
    t.gw = await startBuiltGateway(withIntrospection());
    for (let i = 0; i < 100; i++) {
      expect(await get("junk")).toEqual({ status: 401, reason: "inactive" });
    }
    expect(t.idp.counts.introspection).toBe(1);
  });

  it("concurrent requests with one new token share one introspection", async () => {
    t.gw = await startBuiltGateway(withIntrospection());
    const answers = await Promise.all(Array.from({ length: 50 }, () => get("junk-2")));
    expect(answers.every((a) => a.status === 401)).toBe(true);
    expect(t.idp.counts.introspection).toBe(1);
  });

  it("an active token is introspected once and then served from memory until its exp", async () => {
    t.idp.setIntrospection({
      status: 200,
      body: {
        active: true,
        iss: t.idp.issuer,
        aud: AUDIENCE,
        client_id: CLI_CLIENT,
        token_type: "Bearer",
        exp: Math.floor(Date.now() / 1000) + 300,
      },
    });
    t.gw = await startBuiltGateway(withIntrospection());
    for (let i = 0; i < 20; i++) expect((await get("opaque-good")).status).toBe(200);
    expect(t.idp.counts.introspection).toBe(1);
  });

  it("with the endpoint failing, distinct junk tokens cost a bounded number of calls", async () => {
    t.idp.setIntrospection({ status: 500, body: { error: "server_error" } });
    t.gw = await startBuiltGateway(withIntrospection({ maxRequestsPerSec: 2 }));
    const started = Date.now();
    for (let i = 0; i < 100; i++) {
      expect(await get(`junk-${i}`)).toEqual({ status: 503, reason: "introspection_unavailable" });
    }
    // A burst of 2, then 2 per second: far fewer than one per request.
    const seconds = (Date.now() - started) / 1000;
    expect(t.idp.counts.introspection).toBeLessThanOrEqual(2 + Math.ceil(2 * seconds));
    expect(await t.gw.logged("gateway_outbound_budget_exhausted")).not.toHaveLength(0);
  });
});

describe("key fetches while the IdP fails", () => {
  it("discovery failing: 50 unknown-kid tokens cost a few discovery fetches", async () => {
    t.idp.setDown(true);
    t.gw = await startBuiltGateway(testConfig(t.idp.issuer, { demo: true }));
    for (let i = 0; i < 50; i++) {
      expect(await get(unknownKid(i))).toEqual({ status: 503, reason: "keys_unavailable" });
    }
    expect(t.idp.counts.discovery).toBeLessThanOrEqual(3);
  });

  it("JWKS failing: 50 unknown-kid tokens cost a few JWKS fetches", async () => {
    t.idp.setDown(true);
    t.gw = await startBuiltGateway(
      testConfig(t.idp.issuer, { demo: true }, { jwksUri: t.idp.jwksUri }),
    );
    for (let i = 0; i < 50; i++) {
      expect(await get(unknownKid(i))).toEqual({ status: 503, reason: "keys_unavailable" });
    }
    expect(t.idp.counts.jwks).toBeLessThanOrEqual(4);
  });

  it("JWKS failing after a good fetch: valid tokens pass on the last good keys, unknown kids cost a few fetches", async () => {
    t.gw = await startBuiltGateway(testConfig(t.idp.issuer, { demo: true }));
    const token = await cliToken(t.idp);
    expect((await get(token)).status).toBe(200);
    t.idp.setDown(true);
    for (let i = 0; i < 50; i++) {
      expect(await get(unknownKid(i))).toEqual({ status: 401, reason: "unknown_key" });
      expect((await get(token)).status).toBe(200);
    }
    expect(t.idp.counts.jwks).toBeLessThanOrEqual(4);
  });
});
