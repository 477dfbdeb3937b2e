// The built CLI with tokens in a real OS keyring: gnome-keyring-daemon on a private D-Bus session
// (testkit's startKeyring), its entries read back with secret-tool, an independent reader.
import { readFile } from "node:fs/promises";
import { publicNativeClient, startKeyring, type TestKeyring } from "@vymalo/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CliHarness,
  cliHarness,
  loginInBrowser,
  providerConfig,
  readJson,
} from "./cli/harness.js";

let keyring: TestKeyring;
let h: CliHarness | undefined;
beforeAll(async () => {
  keyring = await startKeyring();
});
afterAll(async () => keyring?.close());
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function setup(oauth2: Record<string, unknown>, bus: "keyring" | "none") {
  const harness = await cliHarness({ clients: [publicNativeClient("cli")] });
  h = harness;
  if (bus === "keyring") {
    harness.env.DBUS_SESSION_BUS_ADDRESS = keyring.env.DBUS_SESSION_BUS_ADDRESS;
  }
  await harness.writeGlobalConfig(
    providerConfig("corp", {
      issuer: harness.idp.issuer,
      clientId: "cli",
      scopes: "openid",
      ...oauth2,
    }),
  );
  return harness;
}

/** The keyring entry of provider `id` in the harness's cache, as secret-tool sees it. */
const entryOf = (harness: CliHarness, id: string) => ({
  service: "opencode-oauth2",
  username: `${id}@${harness.cacheHome}/opencode-oauth2/tokens`,
});

/** Engine log records the CLI wrote to stderr with --verbose. */
const records = (stderr: string) =>
  stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("storage keyring through the CLI", () => {
  it("login → warm token → status → logout: the tokens live in the keyring, never in a file", async () => {
    const harness = await setup({ storage: "keyring" }, "keyring");
    const { result } = await loginInBrowser(harness);
    expect(result.code, result.stderr).toBe(0);

    const stored = JSON.parse((await keyring.lookup(entryOf(harness, "corp"))) ?? "{}");
    expect(stored.accessToken).toMatch(/^eyJ/);
    expect(stored.refreshToken).toBeTruthy();
    const fileText = await readFile(harness.tokenFile("corp"), "utf8");
    for (const secret of [stored.accessToken, stored.refreshToken, stored.idToken]) {
      if (secret) expect(fileText).not.toContain(secret);
    }
    expect(JSON.parse(fileText)).toMatchObject({
      hasRefreshToken: true,
      keyring: { service: "opencode-oauth2", account: entryOf(harness, "corp").username },
    });

    const grants = harness.idp.tokenRequests.length;
    const token = await harness.run(["token", "corp"]);
    expect(token).toMatchObject({ code: 0, stderr: "" });
    expect(token.stdout.trim()).toBe(stored.accessToken);
    expect(harness.idp.tokenRequests.length).toBe(grants);

    const status = await harness.run(["status", "--json"]);
    expect(JSON.parse(status.stdout)).toEqual([
      expect.objectContaining({ provider: "corp", state: "valid", storage: "keyring" }),
    ]);
    const table = await harness.run(["status"]);
    expect(table.stdout.split("\n")[0]).toMatch(/STORED IN/);
    expect(table.stdout.split("\n").find((l) => l.startsWith("corp"))).toMatch(/\byes\s+keyring\b/);

    const logout = await harness.run(["logout", "corp"]);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stdout).toMatch(
      /removed the cached tokens from the OS keyring and the token file/,
    );
    expect(await keyring.lookup(entryOf(harness, "corp"))).toBeUndefined();
    await expect(readFile(harness.tokenFile("corp"))).rejects.toMatchObject({ code: "ENOENT" });
    const after = await harness.run(["status", "--json"]);
    expect(JSON.parse(after.stdout)).toEqual([
      expect.objectContaining({ state: "logged_out", storage: null }),
    ]);
  });

  it("a locked keyring: token and status say so with the fix, logout keeps everything", async () => {
    const harness = await setup({ storage: "keyring" }, "keyring");
    expect((await loginInBrowser(harness)).result.code).toBe(0);
    const before = await readFile(harness.tokenFile("corp"), "utf8");
    await keyring.lock();
    try {
      const token = await harness.run(["token", "corp"]);
      expect(token.code).toBe(1);
      expect(token.stdout).toBe("");
      expect(token.stderr).toMatch(/OS keyring, which did not answer/);
      expect(token.stderr).toMatch(/unlock the keyring/);
      const status = await harness.run(["status", "--json"]);
      expect(JSON.parse(status.stdout)).toEqual([
        expect.objectContaining({ provider: "corp", state: "unreadable", storage: "keyring" }),
      ]);
      const logout = await harness.run(["logout", "corp"]);
      expect(logout.code).toBe(1);
      expect(await readFile(harness.tokenFile("corp"), "utf8")).toBe(before);
    } finally {
      await keyring.unlock();
    }
    expect(await keyring.lookup(entryOf(harness, "corp"))).toBeTruthy();
    expect((await harness.run(["token", "corp"])).code).toBe(0);
  });
});

describe("storage auto through the CLI", () => {
  it("with no session bus keeps the tokens in the 0600 file and says so once", async () => {
    const harness = await setup({}, "none");
    const { result } = await loginInBrowser(harness, "corp", ["--verbose"]);
    expect(result.code, result.stderr).toBe(0);
    const fallbacks = records(result.stderr).filter(
      (r) => r.event === "oauth2_keyring_unavailable",
    );
    expect(fallbacks).toEqual([
      expect.objectContaining({ storage: "auto", operation: "write", fallback: "file" }),
    ]);
    const stored = await readJson(harness.tokenFile("corp"));
    expect(stored.accessToken).toMatch(/^eyJ/);
    expect(stored.keyring).toBeUndefined();
    const status = await harness.run(["status", "--json"]);
    expect(JSON.parse(status.stdout)).toEqual([
      expect.objectContaining({ state: "valid", storage: "file" }),
    ]);
  });

  it("with a keyring answering puts the tokens there", async () => {
    const harness = await setup({}, "keyring");
    expect((await loginInBrowser(harness)).result.code).toBe(0);
    const status = await harness.run(["status", "--json"]);
    expect(JSON.parse(status.stdout)).toEqual([
      expect.objectContaining({ state: "valid", storage: "keyring" }),
    ]);
    expect(await keyring.lookup(entryOf(harness, "corp"))).toMatch(/accessToken/);
  });
});
