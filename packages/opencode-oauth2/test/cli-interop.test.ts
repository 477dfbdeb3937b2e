// What a user sees through the CLI when the IdP is an independent one with the quirks of
// issue 12 (Glewlwyd-like): a refused confidential client, exact redirect URIs, endless
// authorization_pending, a forged callback, and a revocation refused for a public client.
import { existsSync } from "node:fs";
import { confidentialClient, publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import {
  type CliHarness,
  cliHarness,
  eventually,
  loginInBrowser,
  providerConfig,
} from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

describe("a confidential client the IdP refuses with an empty 403", () => {
  it("login names the refused client and the clientAuthMethod to try", async () => {
    h = await cliHarness({
      clients: [confidentialClient("ci-bot", "ci-secret")],
      quirks: { basicCredentialsNotDecoded: true, emptyErrorBodies: true },
    });
    const ci = { issuer: h.idp.issuer, clientId: "ci-bot", clientSecret: "ci-secret" };
    await h.writeGlobalConfig(providerConfig("ci", { ...ci, authFlow: "client_credentials" }));
    const refused = await h.run(["login", "ci"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'error: provider "ci": the IdP refused the client "ci-bot" at the token endpoint (the client-credentials grant), without an OAuth error: wrong secret, or an authentication method it does not accept. The token endpoint answered HTTP 403, empty body. Fix: check clientSecret; if it is right, the IdP may not accept client_secret_basic for this client: set "clientAuthMethod": "client_secret_post"',
    );
    expect(refused.stderr).not.toContain("ci-secret");

    await h.writeGlobalConfig(
      providerConfig("ci", {
        ...ci,
        authFlow: "client_credentials",
        clientAuthMethod: "client_secret_post",
      }),
    );
    const fixed = await h.run(["login", "ci"]);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain("ci needs no user (client_credentials): got a token");
  });
});

describe("a browser login that cannot complete", () => {
  it("names the redirect URI it sent and redirectPort when the IdP wants an exact match", async () => {
    h = await cliHarness({
      clients: [publicNativeClient("cli", { redirect_uris: ["http://127.0.0.1:8765/callback"] })],
      quirks: { exactRedirectUris: true },
    });
    await h.writeGlobalConfig(
      providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", loginTimeoutMs: 2000 }),
    );
    const running = h.start(["login", "corp"]);
    const url = await eventually(async () => (await h.openedUrls())[0]);
    const sent = new URL(url).searchParams.get("redirect_uri") as string;
    const page = await h.browser.request(url);
    expect(page.status).toBe(403); // what the browser shows: the IdP's error page
    const result = await running.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error: Login failed: provider "corp": the browser login did not complete within 2 s: no callback reached ${sent}. Fix: likely causes: (1) the IdP does not accept the redirect URI ${sent}, whose port ${new URL(sent).port} was picked at random, because it compares redirect URIs exactly (the browser then shows an error page from the IdP): set "redirectPort" to a fixed free port, e.g. 8765, and register http://127.0.0.1:8765/callback for the client at the IdP; (2) the browser tab was closed before the login finished: run opencode-oauth2 login corp again; (3) no browser on this machine: use the device flow (--flow device)`,
    );
  });

  it("a forged callback gets a neutral page and the login goes on", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli" }));
    const running = h.start(["login", "corp", "--no-browser"]);
    const [, url] = await running.waitForStderr(/^\s+(http:\/\/\S+\/auth\S+)$/m);
    const redirectUri = new URL(url as string).searchParams.get("redirect_uri") as string;
    const forged = await fetch(`${redirectUri}?code=forged&state=forged`);
    expect(forged.status).toBe(400);
    const text = await forged.text();
    expect(text).toContain("This is not the login you started");
    expect(text).not.toContain("Login complete");
    await h.browser.authorize(url as string, { followCallback: true });
    const result = await running.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Logged in to corp as test-user\./);
  });
});

describe("a device login the IdP never completes", () => {
  it("ends when the code expires, with the reason", async () => {
    h = await cliHarness({
      clients: [publicNativeClient("cli")],
      deviceCodeTtl: 2,
      quirks: { endlessAuthorizationPending: true },
    });
    await h.writeGlobalConfig(
      providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", authFlow: "device_code" }),
    );
    const running = h.start(["login", "corp"]);
    const [, uri] = await running.waitForStderr(/open\s+(\S+)/);
    const [, code] = await running.waitForStderr(/enter\s+(\S+)/);
    await h.browser.approveDevice(uri as string, code as string);
    const result = await running.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error: Login failed: provider "corp": the device login was not completed before the code expired (2 s, the IdP's expires_in). Fix: start it again (opencode-oauth2 login corp) and approve it at ${h.idp.issuer}/device in time; if you did approve it, the IdP never finished the login (it kept answering authorization_pending): check the device flow settings of this client at the IdP`,
    );
  });
});

describe("logout when the IdP refuses revocation by the public client", () => {
  it("says the session is not ended at the IdP, with the fix, and exits 1", async () => {
    h = await cliHarness({
      clients: [publicNativeClient("cli")],
      quirks: { publicClientRevocationRefused: true },
    });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli" }));
    expect((await loginInBrowser(h)).result.code).toBe(0);

    const logout = await h.run(["logout", "corp"]);
    expect(logout.code).toBe(1);
    expect(logout.stdout).toBe("");
    expect(logout.stderr).toBe(
      `! corp: removed the cached tokens, but the session is not ended at the IdP.
  the IdP refused, also with the access token, to revoke the refresh token of the public client "cli": the refresh token stays active at the IdP until it expires. The revocation endpoint answered HTTP 401, empty body.
  Fix: to end the session now, sign out at the IdP or have its admin end it; to let logout revoke, ask the admin to allow revocation by this client (some IdPs, Glewlwyd among them, accept only client credentials or an access token carrying a scope they name)
`,
    );
    expect(existsSync(h.tokenFile("corp"))).toBe(false);
  });

  it("revokes with the access token where the IdP accepts it", async () => {
    h = await cliHarness({
      clients: [publicNativeClient("cli")],
      quirks: { publicClientRevocationRefused: true, revocationBearerScope: "api:read" },
    });
    await h.writeGlobalConfig(
      providerConfig("corp", {
        issuer: h.idp.issuer,
        clientId: "cli",
        scopes: "openid offline_access api:read",
      }),
    );
    expect((await loginInBrowser(h)).result.code).toBe(0);
    const logout = await h.run(["logout", "corp"]);
    expect(logout.code).toBe(0);
    expect(logout.stdout).toContain(
      `corp: removed the cached tokens and revoked the refresh token at ${h.idp.issuer} (with the access token: the IdP does not accept revocation requests from this client alone).`,
    );
  });
});
