import { createHash } from "node:crypto";
import * as client from "openid-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEVICE_CODE_GRANT,
  publicNativeClient,
  startIdp,
  TestBrowser,
  type TestIdp,
} from "../src/index.js";
import {
  basicConfig,
  oauthErrorOf,
  PUBLIC_ID,
  pkceAuthorizationUrl,
  postForm,
  publicConfig,
  REDIRECT_URI,
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
