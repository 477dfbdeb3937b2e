import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  confidentialClient,
  DEVICE_CODE_GRANT,
  publicNativeClient,
  startIdp,
  TestBrowser,
  type TestIdp,
  TOKEN_EXCHANGE_GRANT,
} from "../src/index.js";
import {
  basicConfig,
  CONFIDENTIAL_ID,
  oauthErrorOf,
  PUBLIC_ID,
  pkceAuthorizationUrl,
  publicConfig,
  REDIRECT_URI,
  SECRET,
} from "./helpers.js";

const SUBJECT_TOKEN = "upstream-token-123";

describe("startIdp", () => {
  let idp: TestIdp;

  beforeAll(async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID), confidentialClient(CONFIDENTIAL_ID, SECRET)],
      acceptedSubjectTokens: [SUBJECT_TOKEN],
    });
  });
  afterAll(() => idp.close());

  it("serves discovery with the exact 127.0.0.1 issuer", async () => {
    expect(idp.issuer).toBe(`http://127.0.0.1:${idp.port}`);
    const before = idp.discoveryRequests.length;
    const config = await publicConfig(idp);
    expect(idp.discoveryRequests.length - before).toBe(1);
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(idp.issuer);
    expect(metadata.jwks_uri).toBe(idp.jwksUri);
    expect(metadata.device_authorization_endpoint).toBe(idp.deviceAuthorizationEndpoint);
    expect(metadata.grant_types_supported).toContain(TOKEN_EXCHANGE_GRANT);
  });

  it("issues client-credentials JWTs for the audience", async () => {
    const tokens = await client.clientCredentialsGrant(await basicConfig(idp));
    const claims = await idp.verifyAccessToken(tokens.access_token);
    expect(claims).toMatchObject({ iss: idp.issuer, aud: "urn:test:api", client_id: "svc" });
    expect(claims.sub).toBe(CONFIDENTIAL_ID);
    expect(tokens.expires_in).toBe(300);
    await expect(idp.verifyAccessToken("not-a-jwt")).rejects.toThrow();
  });

  it("runs code + PKCE for a public native client through the test browser", async () => {
    const config = await publicConfig(idp);
    const { url, verifier } = await pkceAuthorizationUrl(config);
    const { callbackUrl } = await new TestBrowser().authorize(url, { login: "alice" });
    expect(callbackUrl.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);

    const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
      pkceCodeVerifier: verifier,
    });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(tokens.claims()?.sub).toBe("alice");
    const claims = await idp.verifyAccessToken(tokens.access_token);
    expect(claims).toMatchObject({ sub: "alice", aud: "urn:test:api", client_id: PUBLIC_ID });
    expect(String(claims.scope).split(" ")).toContain("api:read");
  });

  it("rotates refresh tokens: the old one then fails with invalid_grant", async () => {
    const config = await publicConfig(idp);
    const { url, verifier } = await pkceAuthorizationUrl(config);
    const { callbackUrl } = await new TestBrowser().authorize(url);
    const first = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
      pkceCodeVerifier: verifier,
    });
    const oldRefresh = first.refresh_token ?? "";
    const second = await client.refreshTokenGrant(config, oldRefresh);
    expect(second.refresh_token).toEqual(expect.any(String));
    expect(second.refresh_token).not.toBe(oldRefresh);
    await idp.verifyAccessToken(second.access_token);

    const reused = await oauthErrorOf(client.refreshTokenGrant(config, oldRefresh));
    expect(reused.error).toBe("invalid_grant");
    expect(idp.grantErrors).toContainEqual(
      expect.objectContaining({ error: "invalid_grant", grantType: "refresh_token" }),
    );
  });

  it("revokes a refresh token server-side", async () => {
    const config = await publicConfig(idp);
    const { url, verifier } = await pkceAuthorizationUrl(config);
    const { callbackUrl } = await new TestBrowser().authorize(url);
    const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
      pkceCodeVerifier: verifier,
    });
    expect(await idp.revokeRefreshToken(tokens.refresh_token ?? "")).toBe(true);
    expect(await idp.revokeRefreshToken("unknown")).toBe(false);
    const result = await oauthErrorOf(client.refreshTokenGrant(config, tokens.refresh_token ?? ""));
    expect(result.error).toBe("invalid_grant");
  });

  it("redirects with access_denied when the user cancels", async () => {
    const config = await publicConfig(idp);
    const { url } = await pkceAuthorizationUrl(config, { state: "xyz" });
    const { callbackUrl } = await new TestBrowser().authorize(url, { deny: true });
    const params = new URL(callbackUrl).searchParams;
    expect(params.get("error")).toBe("access_denied");
    expect(params.get("state")).toBe("xyz");
  });

  it("lets a confidential native client use any loopback port", async () => {
    const config = await basicConfig(idp);
    const { url, verifier } = await pkceAuthorizationUrl(config);
    const { callbackUrl } = await new TestBrowser().authorize(url);
    const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
      pkceCodeVerifier: verifier,
    });
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it("runs the device flow with the injected interval", async () => {
    const config = await publicConfig(idp);
    const device = await client.initiateDeviceAuthorization(config, { scope: "openid" });
    expect(device.interval).toBe(1);
    const approval = await new TestBrowser().approveDevice(
      device.verification_uri,
      device.user_code,
      {
        login: "bob",
      },
    );
    expect(approval.outcome).toBe("approved");

    const started = Date.now();
    const tokens = await client.pollDeviceAuthorizationGrant(config, device);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(await idp.verifyAccessToken(tokens.access_token)).toMatchObject({ sub: "bob" });
  });

  it("records a denied device authorization as access_denied", async () => {
    const config = await publicConfig(idp);
    const device = await client.initiateDeviceAuthorization(config, {});
    const browser = new TestBrowser();
    // verification_uri_complete answers with an auto-submitting form_post page.
    const complete = device.verification_uri_complete ?? "";
    const denied = await browser.approveDevice(complete, device.user_code, { deny: true });
    expect(denied.outcome).toBe("denied");
    const result = await oauthErrorOf(
      client.genericGrantRequest(config, DEVICE_CODE_GRANT, { device_code: device.device_code }),
    );
    expect(result.error).toBe("access_denied");
  });

  it("exchanges accepted subject tokens and rejects unknown ones", async () => {
    const config = await basicConfig(idp);
    const exchanged = await client.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, {
      subject_token: SUBJECT_TOKEN,
      subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
    });
    expect(exchanged.issued_token_type).toBe("urn:ietf:params:oauth:token-type:access_token");
    expect(await idp.verifyAccessToken(exchanged.access_token)).toMatchObject({
      aud: "urn:test:api",
      client_id: CONFIDENTIAL_ID,
    });

    const rejected = await oauthErrorOf(
      client.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, {
        subject_token: "forged",
        subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
      }),
    );
    expect(rejected.error).toBe("invalid_grant");
  });

  it("logs every token request with grant type and client", () => {
    expect(idp.countGrants("client_credentials")).toBeGreaterThanOrEqual(1);
    expect(idp.countGrants(TOKEN_EXCHANGE_GRANT)).toBe(2);
    expect(idp.tokenRequests).toContainEqual(
      expect.objectContaining({ grantType: "authorization_code", clientId: PUBLIC_ID }),
    );
    expect(idp.tokenRequests).toContainEqual(
      expect.objectContaining({ grantType: "client_credentials", clientId: CONFIDENTIAL_ID }),
    );
    expect(idp.tokenRequests.every((request) => typeof request.at === "number")).toBe(true);
  });
});

describe("startIdp options", () => {
  let idp: TestIdp;

  beforeAll(async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID)],
      audience: "https://api.example.test",
      accessTokenTtl: 120,
      refreshTokenTtl: 600,
      rotateRefreshToken: false,
    });
  });
  afterAll(() => idp.close());

  async function codeFlow(config: client.Configuration) {
    const { url, verifier } = await pkceAuthorizationUrl(config);
    const { callbackUrl } = await new TestBrowser().authorize(url);
    return client.authorizationCodeGrant(config, new URL(callbackUrl), {
      pkceCodeVerifier: verifier,
    });
  }

  it("uses the configured audience, TTLs and no rotation", async () => {
    const config = await publicConfig(idp);
    const tokens = await codeFlow(config);
    expect(tokens.expires_in).toBe(120);
    const claims = await idp.verifyAccessToken(tokens.access_token);
    expect(claims.aud).toBe("https://api.example.test");
    const stored = await idp.provider.RefreshToken.find(tokens.refresh_token ?? "");
    expect(stored?.expiration).toBeGreaterThan(590);
    expect(stored?.expiration).toBeLessThanOrEqual(600);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token ?? "");
    // Without rotation the OP answers with the same refresh token.
    expect(refreshed.refresh_token).toBe(tokens.refresh_token);
    await client.refreshTokenGrant(config, tokens.refresh_token ?? "");
  });

  it("introspects and revokes refresh tokens; JWT access tokens are refused", async () => {
    const config = await publicConfig(idp);
    const tokens = await codeFlow(config);
    const refreshToken = tokens.refresh_token ?? "";
    expect(await client.tokenIntrospection(config, refreshToken)).toMatchObject({ active: true });
    const jwt = await oauthErrorOf(client.tokenIntrospection(config, tokens.access_token));
    expect(jwt.error).toBe("unsupported_token_type");

    await client.tokenRevocation(config, refreshToken);
    expect(await client.tokenIntrospection(config, refreshToken)).toMatchObject({ active: false });
    const revoked = await oauthErrorOf(client.refreshTokenGrant(config, refreshToken));
    expect(revoked.error).toBe("invalid_grant");
  });
});
