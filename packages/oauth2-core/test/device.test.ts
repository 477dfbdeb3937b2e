import {
  confidentialClient,
  DEVICE_CODE_GRANT,
  publicNativeClient,
  startIdp,
} from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { OAuth2Error } from "../src/errors.js";
import { eventsNamed, type Harness, harness, oauth2ErrorOf } from "./helpers.js";

let h: Harness;
afterEach(async () => h?.close());

describe("device code (RFC 8628)", () => {
  it("shows URI, user code and expiry, polls until approved, and sends PKCE by default", async () => {
    h = await harness({
      clients: [publicNativeClient("cli")],
      quirks: { deviceRequiresPkce: true },
    });
    const engine = h.engine();
    const provider = h.provider({
      clientId: "cli",
      authFlow: "device_code",
      scopes: "openid offline_access",
    });
    const shown: { userCode: string; verificationUri: string; expiresAt: number }[] = [];
    const result = await engine.ensureAccessToken(provider, {
      interactive: true,
      prompter: {
        onDeviceCode: (info) => {
          shown.push(info);
          void h.browser.approveDevice(info.verificationUri, info.userCode);
        },
      },
    });
    expect(result).toMatchObject({ status: "ok", source: "login" });
    expect(shown).toHaveLength(1);
    expect(shown[0]?.verificationUri).toBe(`${h.idp.issuer}/device`);
    expect(shown[0]?.userCode).toMatch(/\w{4}-?\w{4}/);
    expect(shown[0]?.expiresAt).toBeGreaterThan(Date.now());
    if (result.status === "ok") await h.idp.verifyAccessToken(result.accessToken);
    // Keycloak-style enforcement saw a code_challenge and a matching verifier.
    expect(h.idp.grantErrors).toEqual([]);
    expect(eventsNamed(h.records, "oauth2_device_code_issued")).toHaveLength(1);
  });

  it("with pkce:false against a PKCE-enforcing IdP, shows Keycloak's error and the fix", async () => {
    h = await harness({
      clients: [publicNativeClient("cli")],
      quirks: { deviceRequiresPkce: true },
    });
    const provider = h.provider({ clientId: "cli", authFlow: "device_code", pkce: false });
    const err = await h
      .engine()
      .startLogin(provider)
      .catch((e: unknown) => e as OAuth2Error);
    expect(err).toBeInstanceOf(OAuth2Error);
    expect((err as OAuth2Error).idp).toMatchObject({
      error: "invalid_request",
      error_description: "Missing parameter: code_challenge_method",
    });
    expect((err as OAuth2Error).fix).toMatch(/"pkce": true/);
  });

  it("with pkce:false works against an IdP that rejects PKCE parameters", async () => {
    h = await harness({ clients: [publicNativeClient("cli")], quirks: { rejectPkce: true } });
    const withPkce = await h
      .engine()
      .startLogin(h.provider({ clientId: "cli", authFlow: "device_code" }))
      .catch((e: unknown) => e);
    expect((withPkce as OAuth2Error).fix).toMatch(/"pkce": false/);
    const provider = h.provider({ clientId: "cli", authFlow: "device_code", pkce: false });
    const pending = await h.engine().startLogin(provider);
    if (pending.kind !== "device") throw new Error("expected device login");
    await h.browser.approveDevice(pending.verificationUri, pending.userCode);
    const token = await pending.complete();
    await h.idp.verifyAccessToken(token.accessToken);
  });

  it("stops with a clear message when the user declines", async () => {
    h = await harness({ clients: [publicNativeClient("cli")] });
    const pending = await h
      .engine()
      .startLogin(h.provider({ clientId: "cli", authFlow: "device_code" }));
    if (pending.kind !== "device") throw new Error("expected device login");
    await h.browser.approveDevice(pending.verificationUri, pending.userCode, { deny: true });
    const err = await pending.complete().catch((e: unknown) => e as OAuth2Error);
    expect((err as OAuth2Error).code).toBe("login_aborted");
    expect((err as OAuth2Error).idp?.error).toBe("access_denied");
    expect((err as OAuth2Error).message).toMatch(/declined/);
  });

  it("explains an IdP without a device endpoint", async () => {
    h = await harness({ clients: [publicNativeClient("cli")] });
    // An IdP without discovery whose endpoints list no device authorization endpoint.
    const provider = h.provider({
      clientId: "cli",
      endpoints: { authorization: `${h.idp.issuer}/auth`, token: `${h.idp.issuer}/token` },
    });
    const err = await h
      .engine()
      .startLogin(provider, { flow: "device_code" })
      .catch((e: unknown) => e as OAuth2Error);
    expect((err as OAuth2Error).message).toMatch(/no device authorization endpoint/);
    expect((err as OAuth2Error).fix).toMatch(/endpoints.deviceAuthorization/);
  });
});

describe("discovery and binding", () => {
  it("discovers once per issuer per process, whatever the number of providers", async () => {
    h = await harness({ clients: [confidentialClient("svc", "s")] });
    let discoveries = 0;
    const engine = h.engine({
      fetch: (url, init) => {
        if (url.includes("/.well-known/")) discoveries += 1;
        return fetch(url, init);
      },
    });
    const raw = {
      clientId: "svc",
      clientSecret: "s",
      authFlow: "client_credentials",
      audience: undefined,
    };
    await Promise.all(
      ["a", "b", "c"].map((id) =>
        engine.ensureAccessToken(
          h.provider({ ...raw, httpTimeoutMs: 4000 + id.charCodeAt(0) }, id),
        ),
      ),
    );
    // httpTimeoutMs is not part of the discovery key, only the issuer and endpoint overrides.
    expect(discoveries).toBe(1);
  });

  it("never sends a token to another IdP after the issuer changed", async () => {
    h = await harness({ clients: [confidentialClient("svc", "s")] });
    const other = await startIdp({ clients: [confidentialClient("svc", "s")] });
    try {
      const engine = h.engine();
      const first = h.provider({
        clientId: "svc",
        clientSecret: "s",
        authFlow: "client_credentials",
      });
      const a = await engine.ensureAccessToken(first);
      const moved = { ...first, issuer: other.issuer };
      const b = await engine.ensureAccessToken(moved);
      expect(a.status === "ok" && b.status === "ok" && a.accessToken !== b.accessToken).toBe(true);
      if (b.status === "ok") {
        expect((await other.verifyAccessToken(b.accessToken)).iss).toBe(other.issuer);
      }
      // Said once, by the ensure that met it (the store's re-read under the lock is quiet).
      expect(eventsNamed(h.records, "oauth2_token_cache_binding_mismatch")).toMatchObject([
        { provider: "corp", cachedIssuer: h.idp.issuer, issuer: other.issuer },
      ]);
    } finally {
      await other.close();
    }
  });
});

describe("a device login the IdP never completes", () => {
  const approving = (h: Harness) => ({
    onDeviceCode: (info: { verificationUri: string; userCode: string }) => {
      void h.browser.approveDevice(info.verificationUri, info.userCode).catch(() => {});
    },
  });

  it("ends when the code expires (expires_in) with login_timeout, not polling forever", async () => {
    h = await harness({
      clients: [publicNativeClient("cli")],
      deviceCodeTtl: 2,
      quirks: { endlessAuthorizationPending: true },
    });
    const provider = h.provider({ clientId: "cli", authFlow: "device_code" });
    const err = await oauth2ErrorOf(
      h.engine().login(provider, { flow: "device_code", prompter: approving(h) }),
    );
    expect(err.code).toBe("login_timeout");
    expect(err.message).toBe(
      `provider "corp": the device login was not completed before the code expired (2 s, the IdP's expires_in). Fix: start it again (opencode-oauth2 login corp) and approve it at ${h.idp.issuer}/device in time; if you did approve it, the IdP never finished the login (it kept answering authorization_pending): check the device flow settings of this client at the IdP`,
    );
    expect(eventsNamed(h.records, "oauth2_login_failed")[0]).toMatchObject({
      flow: "device_code",
      error_code: "login_timeout",
    });
    expect(h.idp.countGrants(DEVICE_CODE_GRANT)).toBeGreaterThan(0);
  });

  it("ends at loginTimeoutMs when that comes first", async () => {
    h = await harness({
      clients: [publicNativeClient("cli")],
      quirks: { endlessAuthorizationPending: true },
    });
    const provider = h.provider({
      clientId: "cli",
      authFlow: "device_code",
      loginTimeoutMs: 1500,
    });
    const err = await oauth2ErrorOf(
      h.engine().login(provider, { flow: "device_code", prompter: approving(h) }),
    );
    expect(err.code).toBe("login_timeout");
    expect(err.detail).toBe("the device login was not completed within loginTimeoutMs (1.5 s).");
  });
});
