import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import {
  type CliHarness,
  cliHarness,
  loginInBrowser,
  providerConfig,
  readJson,
} from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

const JWT = /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/;

async function setup(oauth2: Record<string, unknown> = {}) {
  h = await cliHarness({ clients: [publicNativeClient("cli")] });
  await h.writeGlobalConfig(
    providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", scopes: "openid", ...oauth2 }),
  );
}

const browserLogin = (extra: string[] = []) => loginInBrowser(h, "corp", extra);

describe("login → status → token → logout (browser flow)", () => {
  it("logs in through $BROWSER and the loopback callback, then shows, prints and revokes the token", async () => {
    await setup();
    const { url, result } = await browserLogin();
    expect(result.code).toBe(0);
    expect(new URL(url).origin).toBe(h.idp.issuer);
    expect(result.stderr).toContain(url);
    expect(result.stdout).toMatch(/Logged in to corp as test-user\./);
    expect(result.stdout).toMatch(/Access token expires in (4|5) min/);
    expect(result.stdout).toMatch(/refresh token is stored/);
    const stored = await readJson(h.tokenFile("corp"));
    expect(stored.refreshToken).toBeTruthy();
    // Nothing secret on either stream.
    for (const secret of [stored.accessToken, stored.refreshToken, stored.idToken]) {
      expect(result.stdout + result.stderr).not.toContain(secret);
    }

    const status = await h.run(["status"]);
    expect(status.code).toBe(0);
    const row = status.stdout.split("\n").find((line) => line.startsWith("corp"));
    expect(row).toMatch(
      /authorization_code\s+logged in as test-user\s+in (4|5) min\s+yes\s+file\s+openid/,
    );
    expect(row).toContain(h.idp.issuer);

    const json = await h.run(["status", "--json"]);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout);
    expect(rows).toEqual([
      expect.objectContaining({
        provider: "corp",
        flow: "authorization_code",
        state: "valid",
        loggedIn: true,
        refreshAvailable: true,
        issuer: h.idp.issuer,
        clientId: "cli",
        scopes: ["openid"],
        subject: "test-user",
      }),
    ]);
    expect(rows[0].expiresIn).toBeGreaterThan(200);
    expect(json.stdout).not.toContain(stored.accessToken);
    expect(json.stdout).not.toContain(stored.refreshToken);

    const token = await h.run(["token", "corp"]);
    expect(token).toMatchObject({ code: 0, stderr: "" });
    expect(token.stdout).toBe(`${stored.accessToken}\n`);
    expect((await h.idp.verifyAccessToken(token.stdout.trim())).client_id).toBe("cli");

    const logout = await h.run(["logout", "corp"]);
    expect(logout.code).toBe(0);
    expect(logout.stdout).toMatch(/corp: removed the cached tokens and revoked the refresh token/);
    expect(existsSync(h.tokenFile("corp"))).toBe(false);
    // Revoked at the IdP: it no longer knows the refresh token.
    expect(await h.idp.revokeRefreshToken(stored.refreshToken)).toBe(false);

    const after = await h.run(["token", "corp"]);
    expect(after.code).toBe(2);
    expect(after.stdout).toBe("");
    expect(after.stderr).toMatch(
      /provider "corp" needs a login \(no token\)\. Run: opencode-oauth2 login corp/,
    );
    const again = await h.run(["logout", "corp"]);
    expect(again.stdout).toMatch(/not logged in; nothing to remove/);
  });

  it("token refreshes an expired token without prompting", async () => {
    await setup();
    expect((await browserLogin()).result.code).toBe(0);
    const stored = await readJson(h.tokenFile("corp"));
    await writeFile(
      h.tokenFile("corp"),
      JSON.stringify({ ...stored, expiresAt: Date.now() - 3_600_000 }),
      {
        mode: 0o600,
      },
    );
    const status = await h.run(["status"]);
    expect(status.stdout).toMatch(/expired, will refresh\s+expired 1 h ago/);
    const token = await h.run(["token", "corp"]);
    expect(token.code).toBe(0);
    expect(token.stdout.trim()).toMatch(JWT);
    expect(token.stdout.trim()).not.toBe(stored.accessToken);
    await h.idp.verifyAccessToken(token.stdout.trim());
    expect(h.idp.countGrants("refresh_token")).toBe(1);
  });

  it("--no-browser prints the URL without opening a browser", async () => {
    await setup();
    const running = h.start(["login", "corp", "--no-browser"]);
    const [, url] = await running.waitForStderr(/^\s+(http:\/\/\S+\/auth\S+)$/m);
    expect(running.output().stderr).toMatch(/Open this URL in a browser:/);
    await h.browser.authorize(url as string, { followCallback: true });
    expect((await running.done).code).toBe(0);
    expect(await h.openedUrls()).toEqual([]);
  });

  it("Ctrl-C cancels a pending login: exit 130 and the loopback listener is closed", async () => {
    await setup();
    const running = h.start(["login", "corp", "--no-browser"]);
    const [, url] = await running.waitForStderr(/^\s+(http:\/\/\S+\/auth\S+)$/m);
    const redirectUri = new URL(url as string).searchParams.get("redirect_uri") as string;
    await running.waitForStderr(/Waiting for the browser login/);
    running.child.kill("SIGINT");
    const result = await running.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/Login cancelled\./);
    await expect(fetch(redirectUri)).rejects.toThrow();
  });
});

describe("login (device flow)", () => {
  it("shows the verification URI and user code, waits, and logs in once approved", async () => {
    await setup({ authFlow: "device_code" });
    const running = h.start(["login", "corp"]);
    const [, uri] = await running.waitForStderr(/open\s+(\S+)/);
    const [, code] = await running.waitForStderr(/enter\s+(\S+)/);
    await running.waitForStderr(/Waiting for approval of code/);
    expect(uri).toBe(`${h.idp.issuer}/device`);
    await h.browser.approveDevice(uri as string, code as string);
    const result = await running.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Logged in to corp as test-user/);
    const status = JSON.parse((await h.run(["status", "--json"])).stdout);
    expect(status[0]).toMatchObject({ flow: "device_code", state: "valid", loggedIn: true });
  });

  it("--flow device overrides a browser provider, and a declined login fails with the IdP's answer", async () => {
    await setup();
    const running = h.start(["login", "corp", "--flow", "device"]);
    const [, uri] = await running.waitForStderr(/open\s+(\S+)/);
    const [, code] = await running.waitForStderr(/enter\s+(\S+)/);
    await h.browser.approveDevice(uri as string, code as string, { deny: true });
    const result = await running.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /provider "corp": the device login was declined\. The IdP answered: access_denied/,
    );
    expect(existsSync(h.tokenFile("corp"))).toBe(false);
  });
});

describe("usage", () => {
  it("exits 64 on an unknown provider, command or flow, and documents the exit codes", async () => {
    await setup();
    const unknown = await h.run(["token", "nope"]);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(
      /no provider "nope" with an oauth2 block.*Managed providers: corp/,
    );
    expect((await h.run(["frobnicate"])).code).toBe(64);
    expect((await h.run(["login", "corp", "--flow", "carrier-pigeon"])).code).toBe(64);
    expect((await h.run(["status", "--bogus"])).code).toBe(64);
    const help = await h.run(["token", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: opencode-oauth2 token <provider>/);
    expect(help.stdout).toMatch(/2 +login required/);
    expect(help.stdout).toMatch(/64 +usage error/);
    // Every option a command accepts is listed in its help, described, under the same name.
    const logout = await h.run(["logout", "--help"]);
    expect(logout.stdout).toMatch(/^Options:\n {2}--all +log out of every managed provider$/m);
    const exec = await h.run(["exec", "--help"]);
    expect(exec.stdout).toMatch(/^ {2}--env NAME +the variable that holds the token/m);
  });
});
