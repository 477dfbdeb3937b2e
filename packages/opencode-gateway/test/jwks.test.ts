import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { issuerKeySource, silentLogger } from "../src/index.js";
import {
  AUDIENCE,
  CLI_CLIENT,
  type RunningGateway,
  startGateway,
  testConfig,
} from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";

/**
 * Keys come from the issuer's discovery document and JWKS, are cached, follow a key rotation,
 * and survive a short IdP outage; when no key can be had the answer is 503, never 401.
 */

let idp: IssuerStub;
let gw: RunningGateway | undefined;

beforeEach(async () => {
  idp = await startIssuerStub();
});
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  await idp.close();
});

const claims = () => ({ iss: idp.issuer, aud: AUDIENCE, azp: CLI_CLIENT, sub: "dave" });
const status = async (token: string) => {
  const response = await fetch(`${gw?.url}/v1/models-info`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = response.ok ? undefined : ((await response.json()) as { error: { reason: string } });
  return { status: response.status, reason: body?.error.reason };
};

describe("the issuer's keys", () => {
  it("are discovered once and cached across requests", async () => {
    gw = await startGateway(testConfig(idp.issuer, { demo: true }));
    for (let i = 0; i < 3; i++) expect((await status(await idp.sign(claims()))).status).toBe(200);
    expect(idp.counts).toEqual({ discovery: 1, jwks: 1, introspection: 0 });
  });

  it("come from jwksUri without discovery when it is set", async () => {
    gw = await startGateway(testConfig(idp.issuer, { demo: true }, { jwksUri: idp.jwksUri }));
    expect((await status(await idp.sign(claims()))).status).toBe(200);
    expect(idp.counts.discovery).toBe(0);
  });

  it("follow a rotation: a token with a new kid makes the gateway re-fetch the JWKS", async () => {
    const keys = issuerKeySource({ issuer: idp.issuer, cooldownMs: 0 });
    gw = await startGateway(testConfig(idp.issuer, { demo: true }), { keys });
    const old = idp.active;
    expect((await status(await idp.sign(claims()))).status).toBe(200);
    const next = await idp.newKey("key-2", "ES256");
    idp.publish([next]);
    idp.active = next;
    expect((await status(await idp.sign(claims()))).status).toBe(200);
    expect(idp.counts.jwks).toBe(2);
    // The retired key is gone from the JWKS, so its tokens no longer pass.
    expect(await status(await idp.sign(claims(), { key: old }))).toEqual({
      status: 401,
      reason: "unknown_key",
    });
  });

  it("answer 503 (not 401) while the issuer cannot be reached, and recover", async () => {
    gw = await startGateway(testConfig(idp.issuer, { demo: true }));
    idp.setDown(true);
    const token = await idp.sign(claims());
    expect(await status(token)).toEqual({ status: 503, reason: "keys_unavailable" });
    idp.setDown(false);
    expect((await status(token)).status).toBe(200);
  });

  it("keep working from the last good key set when a re-fetch fails", async () => {
    const keys = issuerKeySource({ issuer: idp.issuer, maxAgeMs: 0, logger: silentLogger });
    gw = await startGateway(testConfig(idp.issuer, { demo: true }), { keys });
    const token = await idp.sign(claims());
    expect((await status(token)).status).toBe(200);
    idp.setDown(true);
    expect((await status(token)).status).toBe(200);
    expect((await status(await idp.sign(claims(), { key: await idp.newKey("x") }))).status).toBe(
      401,
    );
  });

  it("are refused when discovery names another issuer", async () => {
    idp.setAdvertisedIssuer("https://impostor.example.test");
    gw = await startGateway(testConfig(idp.issuer, { demo: true }));
    expect(await status(await idp.sign(claims()))).toEqual({
      status: 503,
      reason: "keys_unavailable",
    });
    expect(idp.counts.jwks).toBe(0);
  });
});
