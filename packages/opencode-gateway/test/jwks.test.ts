import { describe, expect, it } from "vitest";
import { issuerKeySource, silentLogger } from "../src/index.js";
import {
  AUDIENCE,
  CLI_CLIENT,
  type RunningGateway,
  startGateway,
  testConfig,
} from "./fixtures/gateway.js";
import { issuerPerTest } from "./fixtures/lifecycle.js";

/**
 * Keys come from the issuer's discovery document and JWKS, are cached, follow a key rotation,
 * and survive a short IdP outage; when no key can be had the answer is 503, never 401.
 */

const t = issuerPerTest<RunningGateway>();

const claims = () => ({ iss: t.idp.issuer, aud: AUDIENCE, azp: CLI_CLIENT, sub: "dave" });
const status = async (token: string) => {
  const response = await fetch(`${t.gw?.url}/v1/models-info`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = response.ok ? undefined : ((await response.json()) as { error: { reason: string } });
  return { status: response.status, reason: body?.error.reason };
};

describe("the issuer's keys", () => {
  it("are discovered once and cached across requests", async () => {
    t.gw = await startGateway(testConfig(t.idp.issuer, { demo: true }));
    for (let i = 0; i < 3; i++) expect((await status(await t.idp.sign(claims()))).status).toBe(200);
    expect(t.idp.counts).toEqual({ discovery: 1, jwks: 1, introspection: 0 });
  });

  it("come from jwksUri without discovery when it is set", async () => {
    t.gw = await startGateway(testConfig(t.idp.issuer, { demo: true }, { jwksUri: t.idp.jwksUri }));
    expect((await status(await t.idp.sign(claims()))).status).toBe(200);
    expect(t.idp.counts.discovery).toBe(0);
  });

  it("follow a rotation: a token with a new kid makes the gateway re-fetch the JWKS", async () => {
    const keys = issuerKeySource({ issuer: t.idp.issuer, cooldownMs: 0 });
    t.gw = await startGateway(testConfig(t.idp.issuer, { demo: true }), { keys });
    const old = t.idp.active;
    expect((await status(await t.idp.sign(claims()))).status).toBe(200);
    const next = await t.idp.newKey("key-2", "ES256");
    t.idp.publish([next]);
    t.idp.active = next;
    expect((await status(await t.idp.sign(claims()))).status).toBe(200);
    expect(t.idp.counts.jwks).toBe(2);
    // The retired key is gone from the JWKS, so its tokens no longer pass.
    expect(await status(await t.idp.sign(claims(), { key: old }))).toEqual({
      status: 401,
      reason: "unknown_key",
    });
  });

  it("answer 503 (not 401) while the issuer cannot be reached, and recover", async () => {
    t.gw = await startGateway(testConfig(t.idp.issuer, { demo: true }));
    t.idp.setDown(true);
    const token = await t.idp.sign(claims());
    expect(await status(token)).toEqual({ status: 503, reason: "keys_unavailable" });
    t.idp.setDown(false);
    expect((await status(token)).status).toBe(200);
  });

  it("keep working from the last good key set when a re-fetch fails", async () => {
    const keys = issuerKeySource({ issuer: t.idp.issuer, maxAgeMs: 0, logger: silentLogger });
    t.gw = await startGateway(testConfig(t.idp.issuer, { demo: true }), { keys });
    const token = await t.idp.sign(claims());
    expect((await status(token)).status).toBe(200);
    t.idp.setDown(true);
    expect((await status(token)).status).toBe(200);
    expect(
      (await status(await t.idp.sign(claims(), { key: await t.idp.newKey("x") }))).status,
    ).toBe(401);
  });

  it("are refused when discovery names another issuer", async () => {
    t.idp.setAdvertisedIssuer("https://impostor.example.test");
    t.gw = await startGateway(testConfig(t.idp.issuer, { demo: true }));
    expect(await status(await t.idp.sign(claims()))).toEqual({
      status: 503,
      reason: "keys_unavailable",
    });
    expect(t.idp.counts.jwks).toBe(0);
  });
});

// A remembered token skips the key lookup only while the key set it was verified against is
// still the one in force: after a re-fetch, or once the set is stale, its key is looked up again.
// The gateway's own routes (Hono) and the proxied request path (which answers a remembered token
// at once) are each held to it.
describe.each([
  ["its own route", "/v1/models-info"],
  ["the proxied request path", "/v1/models"],
])("a remembered token, on %s", (_route, path) => {
  const statusAt = async (token: string) => {
    const response = await fetch(`${t.gw?.url}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = response.ok
      ? await response.arrayBuffer().then(() => undefined)
      : ((await response.json()) as { error: { reason: string } });
    return { status: response.status, reason: body?.error.reason };
  };

  it("fails once a re-fetch has dropped its key (a rotation)", async () => {
    const keys = issuerKeySource({ issuer: t.idp.issuer, cooldownMs: 0 });
    t.gw = await startGateway(testConfig(t.idp.issuer, { demo: true }), { keys });
    const remembered = await t.idp.sign(claims());
    expect((await statusAt(remembered)).status).toBe(200);
    expect((await statusAt(remembered)).status).toBe(200);
    const next = await t.idp.newKey("key-2", "ES256");
    t.idp.publish([next]);
    t.idp.active = next;
    expect((await statusAt(await t.idp.sign(claims()))).status).toBe(200);
    expect(t.idp.counts.jwks).toBe(2);
    expect(await statusAt(remembered)).toEqual({ status: 401, reason: "unknown_key" });
  });

  it("fails once its key set is stale and the re-fetch no longer has the key", async () => {
    const keys = issuerKeySource({ issuer: t.idp.issuer, maxAgeMs: 300 });
    t.gw = await startGateway(testConfig(t.idp.issuer, { demo: true }), { keys });
    const remembered = await t.idp.sign(claims());
    expect((await statusAt(remembered)).status).toBe(200);
    t.idp.publish([]);
    // Within maxAgeMs the key set in force still holds the key: no fetch, still accepted.
    expect((await statusAt(remembered)).status).toBe(200);
    expect(t.idp.counts.jwks).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await statusAt(remembered)).toEqual({ status: 401, reason: "unknown_key" });
    expect(t.idp.counts.jwks).toBe(2);
  });
});
