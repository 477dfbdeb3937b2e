import { chmod } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { confidentialClient, publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, runDoctor } from "./cli/doctor-report.js";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

async function setup(oauth2: Record<string, unknown>) {
  h = await cliHarness({ clients: [publicNativeClient("cli"), confidentialClient("svc", "s")] });
  await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, ...oauth2 }));
}

const doctor = (...args: string[]) => runDoctor(h, ...args);

describe("doctor", () => {
  it("passes a healthy setup (exit 0) and checks every part of it", async () => {
    await setup({ clientId: "cli" });
    const { code, report, find } = await doctor();
    expect(code).toBe(0);
    expect(report.errors).toBe(0);
    for (const check of [
      "discovery",
      "endpoints",
      "pkce",
      "client auth (login)",
      "client (login)",
      "clock",
      "redirect port",
    ]) {
      expect(find(check)[0], check).toMatchObject({ level: "ok", provider: "corp" });
    }
    expect(find("client (login)")[0]?.found).toMatch(/knows "cli" \(public\)/);
    // Not logged in yet: worth saying, but it does not block a login.
    expect(find("cached token")[0]).toMatchObject({
      level: "warn",
      fix: "log in: opencode-oauth2 login corp",
    });
    // The probe used a refresh token that does not exist and minted nothing.
    expect(h.idp.tokenRequests.map((r) => r.grantType)).toEqual(["refresh_token"]);
    expect(h.idp.grantErrors.map((e) => e.error)).toEqual(["invalid_grant"]);

    const text = await h.run(["doctor", "corp"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/✓ pkce: the IdP supports S256/);
    expect(text.stdout).toMatch(/No errors, 1 warning\./);
  });

  it("reports a public client given a secret as a config error with the fix", async () => {
    await setup({ clientId: "cli", clientType: "public", clientSecret: "leaked" });
    const { code, find } = await doctor("corp");
    expect(code).toBe(1);
    expect(find("config")).toEqual([
      expect.objectContaining({
        provider: "corp",
        level: "error",
        found: expect.stringMatching(
          /provider\.corp\.options\.oauth2\.clientSecret: a public client must not have a secret/,
        ),
      }),
    ]);
  });

  it("reports a device_code provider whose IdP has no device endpoint", async () => {
    await setup({ clientId: "cli" });
    // Endpoint overrides (no discovery) that list no device authorization endpoint.
    const endpoints = { authorization: `${h.idp.issuer}/auth`, token: `${h.idp.issuer}/token` };
    await h.writeGlobalConfig(
      providerConfig("corp", {
        issuer: h.idp.issuer,
        clientId: "cli",
        authFlow: "device_code",
        endpoints,
      }),
    );
    const asConfigured = await doctor("corp");
    expect(asConfigured.code).toBe(1);
    expect(asConfigured.find("config")[0]).toMatchObject({
      level: "error",
      found: expect.stringMatching(
        /endpoints\.deviceAuthorization: .*device_code needs endpoints\.deviceAuthorization/,
      ),
    });

    // The same IdP for a browser provider is fine, but not for `login --flow device`.
    await h.writeGlobalConfig(
      providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", endpoints }),
    );
    expect((await doctor("corp")).code).toBe(0);
    const device = await doctor("corp", "--flow", "device");
    expect(device.code).toBe(1);
    expect(device.find("endpoints")[0]).toMatchObject({
      level: "error",
      found: expect.stringMatching(/no device_authorization_endpoint/),
      fix: expect.stringMatching(/endpoints\.deviceAuthorization/),
    });
    expect(device.find("discovery")[0]?.found).toMatch(/skipped: endpoints\.token is set/);
  });

  it("reports a client the IdP does not know", async () => {
    await setup({ clientId: "ghost" });
    const { code, find } = await doctor("corp");
    expect(code).toBe(1);
    expect(find("client (login)")[0]).toMatchObject({
      level: "error",
      found:
        'the IdP refused "ghost" (public): HTTP 401: invalid_client (client authentication failed).',
      fix: expect.stringMatching(/does not know this client.*check clientId/),
    });
  });

  it("reports a wrong secret of a confidential client", async () => {
    await setup({ clientId: "svc", clientSecret: "wrong", authFlow: "client_credentials" });
    const { code, find } = await doctor("corp");
    expect(code).toBe(1);
    // Refused with the configured method, then with the other one the IdP advertises.
    expect(find("client (headless)")[0]).toMatchObject({
      level: "error",
      found:
        'the IdP refused "svc" (confidential) with client_secret_basic (HTTP 401: invalid_client (client authentication failed)) and with client_secret_post (HTTP 401: invalid_client (client authentication failed)).',
      fix: "check clientSecret and clientId: the IdP refused them with client_secret_basic and client_secret_post; if they are right, the IdP may have registered the client as public (then remove clientSecret) or with an authentication this plugin does not send",
    });
    expect(find("client auth (headless)")[0]).toMatchObject({ level: "ok" });
    // Refresh probes only, none of them minted anything.
    expect(h.idp.tokenRequests.map((r) => r.grantType)).toEqual(["refresh_token", "refresh_token"]);
  });

  it("reports an unreachable issuer", async () => {
    h = await cliHarness();
    const closed = `http://127.0.0.1:${await freePort()}`;
    await h.writeGlobalConfig(providerConfig("corp", { issuer: closed, clientId: "cli" }));
    const { code, find, report } = await doctor();
    expect(code).toBe(1);
    expect(find("discovery")[0]).toMatchObject({
      level: "error",
      found: expect.stringMatching(
        new RegExp(`could not load the discovery document of ${closed}.*could not be reached`),
      ),
      fix: expect.stringMatching(/check the issuer URL/),
    });
    // Nothing downstream of a failed discovery is guessed at.
    expect(report.findings.some((f) => f.check.startsWith("client"))).toBe(false);
  });

  it("reports a token file other users can read, and a cached token of another client", async () => {
    await setup({ clientId: "svc", clientSecret: "s", authFlow: "client_credentials" });
    expect((await h.run(["token", "corp"])).code).toBe(0);
    await chmod(h.tokenFile("corp"), 0o644);
    const loose = await doctor("corp");
    expect(loose.code).toBe(1);
    expect(loose.find("token file")[0]).toMatchObject({
      level: "error",
      found: expect.stringMatching(/has mode 0644/),
      fix: `chmod 600 '${h.tokenFile("corp")}'`,
    });
    await chmod(h.tokenFile("corp"), 0o600);
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli" }));
    const foreign = await doctor("corp");
    expect(foreign.find("token file")).toEqual([]);
    expect(foreign.find("cached token")[0]).toMatchObject({
      level: "warn",
      found: expect.stringMatching(/issued to client "svc" by .* no longer uses; it is never sent/),
    });
    expect(foreign.code).toBe(0);
  });

  it("reports a redirect port in use and a privileged one", async () => {
    await setup({ clientId: "cli" });
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as { port: number }).port;
    try {
      await h.writeGlobalConfig(
        providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", redirectPort: port }),
      );
      const inUse = await doctor("corp");
      expect(inUse.code).toBe(1);
      expect(inUse.find("redirect port")[0]).toMatchObject({
        level: "error",
        found: `127.0.0.1:${port} is already in use, so the login callback cannot be received.`,
      });
    } finally {
      await new Promise((r) => busy.close(r));
    }
    await h.writeGlobalConfig(
      providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", redirectPort: 80 }),
    );
    const privileged = await doctor("corp");
    expect(privileged.find("redirect port")[0]).toMatchObject({
      level: "warn",
      found: expect.stringMatching(/privileged/),
    });
  });

  it("exits 64 for an unknown provider", async () => {
    await setup({ clientId: "cli" });
    const result = await h.run(["doctor", "nope"]);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/no provider "nope".*managed providers: corp/);
  });
});
