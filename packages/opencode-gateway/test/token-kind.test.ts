import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JWTPayload } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/index.js";
import { type BuiltGateway, MAIN, startBuiltGateway } from "./fixtures/built-gateway.js";
import { AUDIENCE, CLI_CLIENT, testConfig, WEB_CLIENT } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll, forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import { startUpstream, type Upstream } from "./fixtures/upstream.js";

/**
 * Only access tokens from now pass: a validly signed token issued in the future, an ID token
 * presented as an access token, or a JWT of another type is refused; RFC 9068 `at+jwt` can be
 * required; a config that would let ID tokens through is refused when it is loaded. Through
 * the built gateway, with tokens signed by the issuer's published key.
 */

let idp: IssuerStub;
let upstream: Upstream;
let gw: BuiltGateway;
let strict: BuiltGateway;
let lenient: BuiltGateway;

beforeAll(async () => {
  idp = await startIssuerStub();
  upstream = await startUpstream();
  const config = (extra = {}) => testConfig(idp.issuer, { baseURL: upstream.baseURL }, extra);
  [gw, strict, lenient] = await Promise.all([
    startBuiltGateway(config()),
    startBuiltGateway(config({ requireAtJwt: true })),
    startBuiltGateway(
      config({ audiences: [AUDIENCE, CLI_CLIENT], allowIdTokenShapedAccessTokens: true }),
    ),
  ]);
});
closeAfterAll(() => ({ gateways: [gw, strict, lenient], upstream, idp }));
forgetUpstreamRequests(() => upstream);

const now = () => Math.floor(Date.now() / 1000);
const access = (): JWTPayload => ({ iss: idp.issuer, aud: AUDIENCE, azp: CLI_CLIENT, sub: "gina" });
/** What an OIDC ID token for the CLI client looks like when the IdP adds the API audience. */
const idToken = (): JWTPayload => ({
  ...access(),
  aud: [CLI_CLIENT, AUDIENCE],
  typ: "ID",
  nonce: "n-0S6_WzA2Mj",
  at_hash: "77QmUPtjPfzWtF2AnpK9RQ",
  auth_time: now() - 5,
});

async function call(gateway: BuiltGateway, claims: JWTPayload, typ?: string | null) {
  const header = typ === undefined ? {} : { typ: typ ?? undefined };
  const token = await idp.sign(claims, { header });
  const response = await fetch(`${gateway.url}/v1/models`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as { error?: { reason: string } };
  return { status: response.status, reason: body.error?.reason };
}

describe("time of issue", () => {
  it("refuses a token issued 24 h in the future", async () => {
    expect(await call(gw, { ...access(), iat: now() + 86_400 })).toEqual({
      status: 401,
      reason: "issued_in_future",
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it("accepts a token issued 10 s ahead (within the 30 s clock tolerance)", async () => {
    expect((await call(gw, { ...access(), iat: now() + 10 })).status).toBe(200);
  });
});

describe("ID tokens are not access tokens", () => {
  it.each([
    ["a Keycloak-style ID token (typ JWT, aud with the client, nonce, at_hash)", idToken],
    ["one with only at_hash", () => ({ ...access(), at_hash: "77QmUPtjPfzWtF2AnpK9RQ" })],
    ["one with only a nonce", () => ({ ...access(), nonce: "n-0S6_WzA2Mj" })],
    ["one whose aud names its own client", () => ({ ...access(), aud: [AUDIENCE, CLI_CLIENT] })],
    ["one whose payload says typ ID", () => ({ ...access(), typ: "ID" })],
  ])("refuses %s", async (_name, claims) => {
    expect(await call(gw, claims(), "JWT")).toEqual({ status: 401, reason: "id_token" });
    expect(upstream.requests).toHaveLength(0);
  });

  it("still accepts a Keycloak (≤ 24) access token that carries a nonce and typ Bearer", async () => {
    const keycloak = { ...access(), typ: "Bearer", nonce: "n-0S6_WzA2Mj" };
    expect((await call(gw, keycloak, "JWT")).status).toBe(200);
  });

  it("accepts typ JWT and no typ at all by default (Keycloak, Entra ID, Okta, Auth0)", async () => {
    expect((await call(gw, access(), "JWT")).status).toBe(200);
    expect((await call(gw, access(), null)).status).toBe(200);
  });

  it.each(["dpop+jwt", "logout+jwt", "secevent+jwt"])("refuses a JWT of type %s", async (typ) => {
    expect(await call(gw, access(), typ)).toEqual({ status: 401, reason: "wrong_token_type" });
  });
});

describe("allowIdTokenShapedAccessTokens (authentik)", () => {
  /** authentik's access token: the id_token's claims, aud = azp = the client, a nonce. */
  const authentik = (): JWTPayload => ({
    ...access(),
    aud: CLI_CLIENT,
    nonce: "n-0S6_WzA2Mj",
    uid: "a1b2c3",
  });

  it("is refused by default: its only audience is the client, which audiences may not list", async () => {
    expect(await call(gw, authentik(), "JWT")).toEqual({ status: 401, reason: "wrong_audience" });
    expect(await call(gw, { ...authentik(), aud: [CLI_CLIENT, AUDIENCE] }, "JWT")).toEqual({
      status: 401,
      reason: "id_token",
    });
  });

  it("passes when the gateway is told to accept ID-token-shaped access tokens", async () => {
    expect((await call(lenient, authentik(), "JWT")).status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
  });

  it("still checks the time of issue", async () => {
    expect(await call(lenient, { ...authentik(), iat: now() + 86_400 }, "JWT")).toEqual({
      status: 401,
      reason: "issued_in_future",
    });
  });
});

describe("requireAtJwt", () => {
  it("accepts at+jwt and application/at+jwt (RFC 9068)", async () => {
    expect((await call(strict, access(), "at+jwt")).status).toBe(200);
    expect((await call(strict, access(), "application/at+jwt")).status).toBe(200);
  });

  it("refuses typ JWT and no typ", async () => {
    expect(await call(strict, access(), "JWT")).toEqual({
      status: 401,
      reason: "wrong_token_type",
    });
    expect(await call(strict, access(), null)).toEqual({ status: 401, reason: "wrong_token_type" });
  });
});

describe("a config that lets ID tokens through", () => {
  it.each([
    ["oauth2.clientId", CLI_CLIENT],
    ["clients", WEB_CLIENT],
  ])("is refused when audiences lists a client id from %s", (source, client) => {
    const config = testConfig(
      "https://login.example.test",
      { demo: true },
      {
        audiences: [AUDIENCE, client],
      },
    );
    expect(() => parseConfig(config)).toThrow(
      new RegExp(`audiences\\.1: "${client}" is a client id \\(${source.replace(".", "\\.")}\\)`),
    );
  });

  it("makes the bin exit 2 naming the field and the fix", () => {
    const file = join(mkdtempSync(join(tmpdir(), "gateway-aud-")), "gateway.json");
    writeFileSync(
      file,
      JSON.stringify(testConfig(idp.issuer, { demo: true }, { audiences: [CLI_CLIENT] })),
    );
    const run = spawnSync(process.execPath, [MAIN, "--config", file, "--check"], {
      encoding: "utf8",
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`audiences.0: "${CLI_CLIENT}" is a client id (oauth2.clientId)`);
    expect(run.stderr).toMatch(/ID token/);
    expect(run.stderr).toMatch(/its own audience/);
  });
});
