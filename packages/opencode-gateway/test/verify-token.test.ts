import { createLocalJWKSet, type JWTPayload, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createTokenVerifier,
  readBearer,
  type TokenPolicy,
  wwwAuthenticate,
} from "../src/index.js";
import { makeKey, type SigningKey } from "./fixtures/issuer-stub.js";

/**
 * The verifier as a pure function of policy + key source + clock: claim layouts of real IdPs
 * (Keycloak, Okta, Azure, Auth0) and exact time boundaries, with a local key set.
 */

const ISSUER = "https://login.example.test/realms/corp";
const T0 = new Date("2030-01-01T00:00:00Z");
const t0 = T0.getTime() / 1000;
let key: SigningKey;
let keys: ReturnType<typeof createLocalJWKSet>;

beforeAll(async () => {
  key = await makeKey("k1", "ES256");
  keys = createLocalJWKSet({ keys: [key.publicJwk] });
});

const policy = (extra: Partial<TokenPolicy> = {}): TokenPolicy => ({
  issuer: ISSUER,
  audiences: ["api://llm", "https://llm.example.test"],
  clients: ["opencode-cli"],
  clientClaims: ["azp", "client_id"],
  algorithms: ["ES256"],
  clockToleranceSec: 30,
  requiredScopes: [],
  requiredGroups: [],
  groupsClaim: "groups",
  ...extra,
});

const sign = (claims: JWTPayload) =>
  new SignJWT({
    iss: ISSUER,
    aud: "api://llm",
    azp: "opencode-cli",
    iat: t0,
    exp: t0 + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .sign(key.privateKey);

const verdictOf = async (claims: JWTPayload, extra?: Partial<TokenPolicy>, at = T0) =>
  createTokenVerifier(policy(extra), { keys, now: () => at })(await sign(claims));

describe("claim layouts", () => {
  it("accepts any listed audience inside an aud array", async () => {
    expect(await verdictOf({ aud: ["account", "https://llm.example.test"] })).toMatchObject({
      ok: true,
    });
    expect(await verdictOf({ aud: ["account"] })).toMatchObject({
      rejection: { reason: "wrong_audience" },
    });
  });

  it("reads the client from the configured claims (Okta's cid)", async () => {
    const okta = { clientClaims: ["cid"] };
    expect(await verdictOf({ azp: undefined, cid: "opencode-cli" }, okta)).toMatchObject({
      ok: true,
    });
    expect(await verdictOf({ cid: "other" }, okta)).toMatchObject({
      rejection: { reason: "client_not_allowed" },
    });
  });

  it("checks azp before client_id, so a token cannot pick the claim that passes", async () => {
    expect(await verdictOf({ azp: "evil", client_id: "opencode-cli" })).toMatchObject({
      rejection: { reason: "client_not_allowed" },
    });
  });

  it("takes scopes from `scope` or `scp` (string or array)", async () => {
    const needs = { requiredScopes: ["llm:use", "llm:chat"] };
    expect(await verdictOf({ scope: "llm:chat llm:use" }, needs)).toMatchObject({ ok: true });
    expect(await verdictOf({ scp: ["llm:use", "llm:chat"] }, needs)).toMatchObject({ ok: true });
    expect(await verdictOf({ scp: "llm:use llm:chat" }, needs)).toMatchObject({ ok: true });
    expect(await verdictOf({ scope: "llm:use" }, needs)).toMatchObject({
      rejection: { status: 403, scope: "llm:use llm:chat" },
    });
  });

  it("finds groups by dotted path (Keycloak roles) or by a namespaced claim name (Auth0)", async () => {
    const keycloak = { requiredGroups: ["llm"], groupsClaim: "realm_access.roles" };
    expect(await verdictOf({ realm_access: { roles: ["llm"] } }, keycloak)).toMatchObject({
      ok: true,
    });
    expect(await verdictOf({ realm_access: { roles: ["x"] } }, keycloak)).toMatchObject({
      rejection: { status: 403, reason: "group_not_allowed" },
    });
    const auth0 = { requiredGroups: ["llm"], groupsClaim: "https://example.test/groups" };
    expect(await verdictOf({ "https://example.test/groups": ["llm"] }, auth0)).toMatchObject({
      ok: true,
    });
  });
});

describe("time", () => {
  it.each([
    ["exp 29 s ago", { exp: t0 - 29 }, true],
    ["exp 31 s ago", { exp: t0 - 31 }, false],
    ["nbf in 29 s", { nbf: t0 + 29 }, true],
    ["nbf in 31 s", { nbf: t0 + 31 }, false],
  ])("%s with a 30 s tolerance", async (_name, claims, ok) => {
    expect((await verdictOf(claims)).ok).toBe(ok);
  });
});

describe("the Authorization header and the challenge", () => {
  it.each([
    ["Bearer abc.def-_~+/=", "abc.def-_~+/="],
    ["bearer   tok", "tok"],
  ])("reads %j", (header, token) => {
    expect(readBearer(header)).toEqual({ token });
  });

  it("never lets a description break out of its quoted string", () => {
    const header = wwwAuthenticate("llm", {
      status: 401,
      error: "invalid_token",
      reason: "x",
      description: 'tokens issued to client "a\\b" ✗',
    });
    expect(header).toBe(
      `Bearer realm="llm", error="invalid_token", error_description="tokens issued to client 'a'b' ?"`,
    );
  });
});

describe("accepted tokens, remembered until exp", () => {
  it("a remembered token is refused once its exp has passed", async () => {
    let at = T0;
    const verify = createTokenVerifier(policy(), { keys, now: () => at });
    const token = await sign({});
    expect(await verify(token)).toMatchObject({ ok: true });
    at = new Date((t0 + 300 + 31) * 1000);
    expect(await verify(token)).toMatchObject({ ok: false, rejection: { reason: "expired" } });
  });

  it("a remembered token is refused once the key source no longer gives its key", async () => {
    let published = keys;
    const verify = createTokenVerifier(policy(), {
      keys: (header, input) => published(header, input),
      now: () => T0,
    });
    const token = await sign({});
    expect(await verify(token)).toMatchObject({ ok: true });
    published = createLocalJWKSet({ keys: [] });
    expect(await verify(token)).toMatchObject({
      ok: false,
      rejection: { reason: "unknown_key" },
    });
  });

  it("every request with a remembered token gets the same claims, which nobody can change", async () => {
    const verify = createTokenVerifier(policy(), { keys, now: () => T0 });
    const token = await sign({ sub: "ivy" });
    const first = await verify(token);
    const second = await verify(token);
    if (!first.ok || !second.ok) throw new Error("refused");
    expect(second.claims).toBe(first.claims);
    expect(Object.isFrozen(second.claims)).toBe(true);
  });
});
