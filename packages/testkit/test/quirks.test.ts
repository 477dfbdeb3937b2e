import { createHash } from "node:crypto";
import * as client from "openid-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  confidentialClient,
  DEVICE_CODE_GRANT,
  publicNativeClient,
  startIdp,
  TestBrowser,
  type TestIdp,
} from "../src/index.js";
import {
  basicConfig,
  basicHeader,
  CONFIDENTIAL_ID,
  oauthErrorOf,
  PUBLIC_ID,
  pkceAuthorizationUrl,
  postForm,
  postRaw,
  publicConfig,
  REDIRECT_URI,
  SECRET,
} from "./helpers.js";

let idp: TestIdp | undefined;
afterEach(async () => {
  await idp?.close();
  idp = undefined;
});

const s256 = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");

describe("quirks.deviceRequiresPkce (Keycloak)", () => {
  it("requires S256 PKCE on the device request and the matching verifier on the grant", async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID)],
      quirks: { deviceRequiresPkce: true },
    });
    const config = await publicConfig(idp);

    const missing = await oauthErrorOf(client.initiateDeviceAuthorization(config, {}));
    expect(missing).toEqual({
      error: "invalid_request",
      description: "Missing parameter: code_challenge_method",
      status: 400,
    });

    const verifier = client.randomPKCECodeVerifier();
    const device = await client.initiateDeviceAuthorization(config, {
      code_challenge: s256(verifier),
      code_challenge_method: "S256",
    });
    expect(device.interval).toBe(1);
    const approval = await new TestBrowser().approveDevice(
      device.verification_uri,
      device.user_code,
    );
    expect(approval.outcome).toBe("approved");

    const grant = (extra: Record<string, string>) =>
      client.genericGrantRequest(config, DEVICE_CODE_GRANT, {
        device_code: device.device_code,
        ...extra,
      });
    const attempts: Record<string, string>[] = [
      {},
      { code_verifier: "wrong-verifier-wrong-verifier-wrong-verifier" },
    ];
    for (const extra of attempts) {
      expect(await oauthErrorOf(grant(extra))).toEqual({
        error: "invalid_grant",
        description: "PKCE verification failed",
        status: 400,
      });
    }
    const tokens = await grant({ code_verifier: verifier });
    expect(await idp.verifyAccessToken(tokens.access_token)).toMatchObject({ sub: "test-user" });
    expect(
      idp.grantErrors.filter((e) => e.description === "PKCE verification failed"),
    ).toHaveLength(2);
  });
});

describe("quirks.rejectSecretForPublicExchange (Entra)", () => {
  it("answers 401 AADSTS700025 when a public client presents a secret", async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID)],
      quirks: { rejectSecretForPublicExchange: true },
    });
    const config = await publicConfig(idp);
    const { url, verifier } = await pkceAuthorizationUrl(config);
    const { callbackUrl } = await new TestBrowser().authorize(url);
    const code = new URL(callbackUrl).searchParams.get("code") ?? "";
    const form = {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    };

    const basic = await postForm(idp.tokenEndpoint, form, { id: PUBLIC_ID, secret: "x" });
    const post = await postForm(idp.tokenEndpoint, {
      ...form,
      client_id: PUBLIC_ID,
      client_secret: "x",
    });
    for (const rejected of [basic, post]) {
      expect(rejected.status).toBe(401);
      expect(rejected.body).toEqual({
        error: "invalid_client",
        error_description:
          "AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
      });
    }
    // openid-client with a secret hits the same rule.
    const withSecret = await basicConfig(idp, PUBLIC_ID, "x");
    const viaClient = await oauthErrorOf(
      client.authorizationCodeGrant(withSecret, new URL(callbackUrl), {
        pkceCodeVerifier: verifier,
      }),
    );
    expect(viaClient).toMatchObject({ error: "invalid_client", status: 401 });

    // The compliant request (no secret) still redeems the untouched code.
    const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
      pkceCodeVerifier: verifier,
    });
    await idp.verifyAccessToken(tokens.access_token);
  });
});

describe("quirks.rejectPkce", () => {
  it("answers 400 to code_challenge and accepts plain code flow", async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID)],
      quirks: { rejectPkce: true },
    });
    const config = await publicConfig(idp);
    const browser = new TestBrowser();
    const expected = {
      error: "invalid_request",
      error_description: "code_challenge is not supported",
    };

    const { url } = await pkceAuthorizationUrl(config);
    const authorize = await browser.request(url);
    expect(authorize.status).toBe(400);
    expect(await authorize.json()).toEqual(expected);
    await expect(browser.authorize(url)).rejects.toThrow(/400/);

    const device = await postForm(idp.deviceAuthorizationEndpoint, {
      client_id: PUBLIC_ID,
      code_challenge: "abc",
      code_challenge_method: "S256",
    });
    expect(device).toEqual({ status: 400, body: expected });

    // No scope either: the kit's defaultScope ("openid") fills it in.
    const plain = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI });
    const { callbackUrl } = await browser.authorize(plain.href);
    const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl));
    expect(tokens.id_token).toEqual(expect.any(String));
    await idp.verifyAccessToken(tokens.access_token);
  });
});

describe("pkceRequired", () => {
  it("rejects an authorization request without PKCE when required", async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID)],
      pkceRequired: true,
    });
    const config = await publicConfig(idp);
    const plain = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid",
    });
    const { callbackUrl } = await new TestBrowser().authorize(plain.href);
    const params = new URL(callbackUrl).searchParams;
    expect(params.get("error")).toBe("invalid_request");
    expect(params.get("error_description")).toMatch(/PKCE/);
  });
});

/** A public client's tokens from a real code + PKCE login (scope "openid api:read"). */
async function publicLogin(idp: TestIdp) {
  const config = await publicConfig(idp);
  const { url, verifier } = await pkceAuthorizationUrl(config);
  const { callbackUrl } = await new TestBrowser().authorize(url);
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: verifier,
  });
  return { config, tokens, refreshToken: tokens.refresh_token ?? "" };
}

const EMPTY = { contentType: null, wwwAuthenticate: null, text: "" };

describe("quirks.emptyErrorBodies (Glewlwyd)", () => {
  it("answers refused clients, bad grants and refused revocations with the status alone", async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID), confidentialClient(CONFIDENTIAL_ID, SECRET)],
      quirks: { emptyErrorBodies: true },
    });
    const refusedClient = await postRaw(
      idp.tokenEndpoint,
      { grant_type: "client_credentials" },
      basicHeader(CONFIDENTIAL_ID, "wrong-secret"),
    );
    expect(refusedClient).toEqual({ status: 403, ...EMPTY });
    const badRefresh = await postRaw(idp.tokenEndpoint, {
      grant_type: "refresh_token",
      refresh_token: "not-a-refresh-token",
      client_id: PUBLIC_ID,
    });
    expect(badRefresh).toEqual({ status: 400, ...EMPTY });
    const refusedRevocation = await postRaw(
      idp.revocationEndpoint,
      { token: "anything" },
      basicHeader(CONFIDENTIAL_ID, "wrong-secret"),
    );
    expect(refusedRevocation).toEqual({ status: 401, ...EMPTY });
    const unknownDeviceClient = await postRaw(idp.deviceAuthorizationEndpoint, {
      client_id: "nobody",
    });
    expect(unknownDeviceClient).toEqual({ status: 403, ...EMPTY });
    // The OP decided each time: the refusals are its own, recorded as such.
    expect(idp.grantErrors.map((e) => e.error)).toEqual(["invalid_client", "invalid_grant"]);

    // What openid-client makes of it: no OAuth error, the Response as the cause.
    const wrong = await basicConfig(idp, CONFIDENTIAL_ID, "wrong-secret");
    const thrown = await client.clientCredentialsGrant(wrong).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(client.ClientError);
    expect((thrown as client.ClientError).code).toBe("OAUTH_RESPONSE_IS_NOT_JSON");
    expect(((thrown as Error).cause as Response).status).toBe(403);

    // Successful answers are untouched.
    const right = await basicConfig(idp);
    const tokens = await client.clientCredentialsGrant(right);
    await idp.verifyAccessToken(tokens.access_token);
  });
});

describe("quirks.basicCredentialsNotDecoded", () => {
  it("refuses a client id that form-encoding changes in Basic credentials; post works", async () => {
    idp = await startIdp({
      clients: [confidentialClient("ci-bot", SECRET), confidentialClient("plain", "plainsecret")],
      quirks: { basicCredentialsNotDecoded: true },
    });
    const basic = await basicConfig(idp, "ci-bot", SECRET);
    const refused = await client.clientCredentialsGrant(basic).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(client.WWWAuthenticateChallengeError);
    const challenge = (refused as client.WWWAuthenticateChallengeError).cause[0];
    expect(challenge).toMatchObject({ scheme: "basic", parameters: { error: "invalid_client" } });
    expect((refused as client.WWWAuthenticateChallengeError).status).toBe(401);
    // The same id sent verbatim is known: the IdP just does not decode.
    const verbatim = await postRaw(
      idp.tokenEndpoint,
      { grant_type: "client_credentials" },
      basicHeader("ci-bot", SECRET),
    );
    expect(verbatim.status).toBe(200);
    // An id and secret that encoding leaves alone work with Basic.
    await client.clientCredentialsGrant(await basicConfig(idp, "plain", "plainsecret"));
    // client_secret_post carries the id in the form, which the IdP decodes.
    const post = await client.discovery(
      new URL(idp.issuer),
      "ci-bot",
      { token_endpoint_auth_method: "client_secret_basic" },
      client.ClientSecretPost(SECRET),
      { execute: [client.allowInsecureRequests] },
    );
    await idp.verifyAccessToken((await client.clientCredentialsGrant(post)).access_token);
    expect(idp.grantErrors.map((e) => e.error)).toEqual(["invalid_client"]);
  });
});

describe("quirks.exactRedirectUris", () => {
  it("accepts only a registered redirect_uri, exactly, and shows a 403 page otherwise", async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID, { redirect_uris: [REDIRECT_URI] })],
      quirks: { exactRedirectUris: true },
    });
    const config = await publicConfig(idp);
    const otherPort = REDIRECT_URI.replace("49152", "49153");
    const { url } = await pkceAuthorizationUrl(config, { redirect_uri: otherPort });
    const browser = new TestBrowser();
    const page = await browser.request(url);
    expect(page.status).toBe(403);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain("Invalid redirect_uri");
    await expect(browser.authorize(url)).rejects.toThrow(/403/);

    const exact = await pkceAuthorizationUrl(config);
    const { callbackUrl } = await browser.authorize(exact.url);
    expect(callbackUrl.startsWith(`${REDIRECT_URI}?`)).toBe(true);
  });
});

describe("quirks.publicClientRevocationRefused (Glewlwyd)", () => {
  it("with emptyErrorBodies too, answers once: the IdP's server raises no error", async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID)],
      quirks: { publicClientRevocationRefused: true, emptyErrorBodies: true },
    });
    const serverErrors: unknown[] = [];
    idp.provider.app.on("error", (err: unknown) => serverErrors.push(err));
    const { refreshToken } = await publicLogin(idp);
    const refused = await postRaw(idp.revocationEndpoint, {
      token: refreshToken,
      client_id: PUBLIC_ID,
    });
    expect(refused).toEqual({ status: 401, ...EMPTY });
    expect(serverErrors).toEqual([]);
  });

  it("answers a public client's revocation with an empty 401 and keeps the token", async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID), confidentialClient(CONFIDENTIAL_ID, SECRET)],
      quirks: { publicClientRevocationRefused: true },
    });
    const { config, tokens, refreshToken } = await publicLogin(idp);
    const refused = await postRaw(idp.revocationEndpoint, {
      token: refreshToken,
      token_type_hint: "refresh_token",
      client_id: PUBLIC_ID,
    });
    expect(refused).toEqual({ status: 401, ...EMPTY });
    // Without a configured scope, a bearer access token does not authenticate either.
    const bearer = await postRaw(
      idp.revocationEndpoint,
      { token: refreshToken },
      { authorization: `Bearer ${tokens.access_token}` },
    );
    expect(bearer.status).toBe(401);
    const thrown = await client.tokenRevocation(config, refreshToken).catch((e: unknown) => e);
    expect(((thrown as Error).cause as Response).status).toBe(401);
    // The refresh token is still alive at the IdP.
    const refreshed = await client.refreshTokenGrant(config, refreshToken);
    expect(refreshed.access_token).toEqual(expect.any(String));
    // A confidential client authenticates and is served by the OP itself.
    const confidential = await basicConfig(idp);
    await client.tokenRevocation(confidential, "unknown-token");
  });

  it("accepts a bearer access token carrying the configured scope", async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID)],
      quirks: { publicClientRevocationRefused: true, revocationBearerScope: "api:read" },
    });
    const { config, tokens, refreshToken } = await publicLogin(idp);
    const forged = await postRaw(
      idp.revocationEndpoint,
      { token: refreshToken },
      { authorization: "Bearer not-a-token" },
    );
    expect(forged.status).toBe(401);
    const revoked = await postRaw(
      idp.revocationEndpoint,
      { token: refreshToken, token_type_hint: "refresh_token" },
      { authorization: `Bearer ${tokens.access_token}` },
    );
    expect(revoked.status).toBe(200);
    expect(await oauthErrorOf(client.refreshTokenGrant(config, refreshToken))).toMatchObject({
      error: "invalid_grant",
    });
  });

  it("refuses a bearer access token without that scope", async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID)],
      quirks: { publicClientRevocationRefused: true, revocationBearerScope: "api:write" },
    });
    const { config, tokens, refreshToken } = await publicLogin(idp);
    const refused = await postRaw(
      idp.revocationEndpoint,
      { token: refreshToken },
      { authorization: `Bearer ${tokens.access_token}` },
    );
    expect(refused).toEqual({ status: 401, ...EMPTY });
    await client.refreshTokenGrant(config, refreshToken);
  });
});

describe("quirks.endlessAuthorizationPending", () => {
  it("keeps answering authorization_pending after approval and past expires_in", async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID)],
      deviceCodeTtl: 1,
      quirks: { endlessAuthorizationPending: true },
    });
    const config = await publicConfig(idp);
    const device = await client.initiateDeviceAuthorization(config, { scope: "openid" });
    expect(device.expires_in).toBe(1);
    const approval = await new TestBrowser().approveDevice(
      device.verification_uri,
      device.user_code,
    );
    expect(approval.outcome).toBe("approved");
    const poll = () =>
      client.genericGrantRequest(config, DEVICE_CODE_GRANT, { device_code: device.device_code });
    const pending = { error: "authorization_pending", status: 400 };
    expect(await oauthErrorOf(poll())).toMatchObject(pending);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(await oauthErrorOf(poll())).toMatchObject(pending);
    expect(idp.countGrants(DEVICE_CODE_GRANT)).toBe(2);
  });
});

describe("quirks.refusedClientAsUnauthorizedClient (Keycloak)", () => {
  it("answers a client that failed to authenticate with 401 unauthorized_client", async () => {
    idp = await startIdp({
      clients: [confidentialClient(CONFIDENTIAL_ID, SECRET)],
      quirks: { refusedClientAsUnauthorizedClient: true },
    });
    const wrong = await basicConfig(idp, CONFIDENTIAL_ID, "not-the-secret");
    expect(await oauthErrorOf(client.clientCredentialsGrant(wrong))).toEqual({
      error: "unauthorized_client",
      description: "Invalid client or Invalid client credentials",
      status: 401,
    });
    // The right secret still works: only the refusal is reworded.
    const right = await basicConfig(idp);
    expect((await client.clientCredentialsGrant(right)).access_token).toBeTruthy();
  });
});
