// Tokens in a real OS keyring: gnome-keyring-daemon on a private D-Bus session (testkit's
// startKeyring), read back with secret-tool, an independent libsecret client.
import { readFile } from "node:fs/promises";
import { startKeyring, type TestKeyring } from "@vymalo/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KEYRING_SERVICE } from "../src/store/token-store.js";
import { eventsNamed, type Harness, loggedIn, oauth2ErrorOf } from "./helpers.js";

let keyring: TestKeyring;
let h: Harness | undefined;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  keyring = await startKeyring();
  // The native binding reads the bus address from this process's environment.
  for (const [name, value] of Object.entries(keyring.env)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
});

afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await keyring?.close();
});

afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function login(storage: string) {
  const session = await loggedIn({ provider: { storage } });
  h = session.h;
  const { engine, provider } = session;
  const file = engine.store.pathFor(provider.id);
  const attributes = { service: KEYRING_SERVICE, username: `${provider.id}@${engine.store.dir}` };
  return { ...session, file, attributes };
}

describe("storage keyring", () => {
  it("keeps the tokens in the keyring and only metadata in the file", async () => {
    const { engine, provider, first, file, attributes } = await login("keyring");
    const text = await readFile(file, "utf8");
    expect(text).not.toContain(first.accessToken);
    expect(text).not.toContain(first.refreshToken as string);
    expect(JSON.parse(text)).toMatchObject({
      providerId: "corp",
      hasRefreshToken: true,
      expiresAt: first.expiresAt,
      keyring: { service: attributes.service, account: attributes.username },
    });
    const stored = JSON.parse((await keyring.lookup(attributes)) ?? "{}");
    expect(stored).toMatchObject({
      accessToken: first.accessToken,
      refreshToken: first.refreshToken,
    });

    const warm = await engine.ensureAccessToken(provider);
    expect(warm).toMatchObject({ status: "ok", source: "cache", accessToken: first.accessToken });
    expect(await engine.cached(provider)).toMatchObject({ kind: "ok", location: "keyring" });
  });

  it("refreshes through the keyring: the rotated refresh token lands there", async () => {
    const { engine, provider, first, advance, attributes } = await login("keyring");
    advance(400_000);
    const result = await engine.ensureAccessToken(provider);
    expect(result).toMatchObject({ status: "ok", source: "refresh" });
    const stored = JSON.parse((await keyring.lookup(attributes)) ?? "{}");
    expect(stored.refreshToken).toBeTruthy();
    expect(stored.refreshToken).not.toBe(first.refreshToken);
    expect(h?.idp.grantErrors).toEqual([]);
  });

  it("logout removes the keyring entry and the file", async () => {
    const { engine, provider, file, attributes } = await login("keyring");
    expect(await engine.logout(provider, { revoke: false })).toMatchObject({ removed: true });
    expect(await keyring.lookup(attributes)).toBeUndefined();
    await expect(readFile(file, "utf8")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("moving between storages keeps the login: file → keyring and back on the next write", async () => {
    const { engine, provider, first, file, attributes, advance } = await login("file");
    expect(await readFile(file, "utf8")).toContain(first.accessToken);
    expect(await keyring.lookup(attributes)).toBeUndefined();

    const toKeyring = { ...provider, storage: "keyring" as const };
    expect(await engine.cached(toKeyring)).toMatchObject({ kind: "ok", location: "file" });
    advance(400_000);
    const refreshed = await engine.ensureAccessToken(toKeyring);
    expect(refreshed).toMatchObject({ status: "ok", source: "refresh" });
    expect(await engine.cached(toKeyring)).toMatchObject({ kind: "ok", location: "keyring" });
    const inKeyring = await keyring.lookup(attributes);
    expect(inKeyring).toContain(refreshed.status === "ok" ? refreshed.accessToken : "?");
    expect(await readFile(file, "utf8")).not.toMatch(/accessToken|refreshToken/);

    const toFile = { ...provider, storage: "file" as const };
    advance(400_000);
    const back = await engine.ensureAccessToken(toFile);
    expect(back).toMatchObject({ status: "ok", source: "refresh" });
    expect(await engine.cached(toFile)).toMatchObject({ kind: "ok", location: "file" });
    expect(await keyring.lookup(attributes)).toBeUndefined();
    expect(h?.idp.grantErrors).toEqual([]);
  });

  it("a locked keyring loses nothing: reads fail with the fix, nothing is removed", async () => {
    const { engine, provider, first, file, attributes } = await login("keyring");
    const before = await readFile(file, "utf8");
    await keyring.lock();
    try {
      const error = await oauth2ErrorOf(engine.ensureAccessToken(provider));
      expect(error.code).toBe("cache_failed");
      expect(error.fix).toMatch(/unlock the keyring/);
      await expect(engine.logout(provider, { revoke: false })).rejects.toMatchObject({
        code: "cache_failed",
      });
      // Nothing was moved aside or removed.
      expect(await readFile(file, "utf8")).toBe(before);
    } finally {
      await keyring.unlock();
    }
    // The login is still there once the keyring answers again.
    expect(await engine.ensureAccessToken(provider)).toMatchObject({
      status: "ok",
      accessToken: first.accessToken,
    });
    expect(JSON.parse((await keyring.lookup(attributes)) ?? "{}").accessToken).toBe(
      first.accessToken,
    );
    const unavailable = eventsNamed(h?.records ?? [], "oauth2_keyring_unavailable");
    expect(unavailable.map((r) => [r.operation, r.fallback])).toEqual([
      ["read", "none"],
      ["read", "none"],
    ]);
  });

  it("a token saved while the keyring is locked goes to the file (said once), then to the keyring", async () => {
    await keyring.lock();
    let session: Awaited<ReturnType<typeof login>>;
    try {
      session = await login("keyring");
      const { engine, provider, first, file } = session;
      expect(await readFile(file, "utf8")).toContain(first.accessToken);
      // Another write while still locked: not said again.
      await engine.invalidate(provider, first.accessToken);
      const events = eventsNamed(h?.records ?? [], "oauth2_keyring_unavailable");
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ storage: "keyring", operation: "write", fallback: "file" });
    } finally {
      await keyring.unlock();
    }
    const { engine, provider, attributes } = session;
    const refreshed = await engine.ensureAccessToken(provider);
    expect(refreshed).toMatchObject({ status: "ok", source: "refresh" });
    expect(await engine.cached(provider)).toMatchObject({ kind: "ok", location: "keyring" });
    expect(await keyring.lookup(attributes)).toContain(
      refreshed.status === "ok" ? refreshed.accessToken : "?",
    );
  });
});

describe("storage auto", () => {
  // Without a bus it falls back to the file: tested through the CLI (test/cli-keyring.test.ts),
  // since libdbus keeps one session connection per process.
  it("uses the keyring when one answers", async () => {
    const { engine, provider, attributes, first } = await login("auto");
    expect(await engine.cached(provider)).toMatchObject({ kind: "ok", location: "keyring" });
    expect(await keyring.lookup(attributes)).toContain(first.accessToken);
  });
});
