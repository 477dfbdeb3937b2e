import { chmod, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseProviderConfig } from "../src/config/parse.js";
import type { ProviderConfig } from "../src/config/schema.js";
import { createLogger, type LogRecord } from "../src/log.js";
import { defaultCacheDir, fileSafe } from "../src/store/paths.js";
import { bindingFor, type StoredToken, TokenStore } from "../src/store/token-store.js";

function provider(raw: Record<string, unknown> = {}): ProviderConfig {
  const parsed = parseProviderConfig("corp/eu", {
    issuer: "https://idp.example.com",
    clientId: "cli",
    ...raw,
  });
  if (!("config" in parsed)) throw new Error("invalid");
  return parsed.config;
}

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), "store-"));
  const records: LogRecord[] = [];
  const store = new TokenStore({
    dir,
    logger: createLogger({ sink: (r) => records.push(r), level: "debug" }),
  });
  return { dir, store, records };
}

const tokenFor = (p: ProviderConfig): StoredToken => ({
  version: 1,
  providerId: p.id,
  binding: bindingFor(p, p.client),
  flow: "authorization_code",
  accessToken: "at-1",
  tokenType: "Bearer",
  expiresAt: Date.now() + 60_000,
  refreshToken: "rt-1",
  obtainedAt: Date.now(),
});

describe("token store", () => {
  it("writes 0600 files in a 0700 directory and reads them back", async () => {
    const { store } = await setup();
    const p = provider();
    await store.write(tokenFor(p));
    const path = store.pathFor(p.id);
    expect(path.endsWith(`${fileSafe("corp/eu")}.json`)).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(store.dir)).mode & 0o777).toBe(0o700);
    const read = await store.read(p);
    expect(read).toMatchObject({
      kind: "ok",
      token: { accessToken: "at-1", refreshToken: "rt-1" },
    });
    // No temp files left behind.
    expect((await readdir(store.dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("tightens a pre-existing world-readable directory and says so", async () => {
    const { store, records } = await setup();
    await mkdir(store.dir, { recursive: true });
    await chmod(store.dir, 0o755);
    await store.write(tokenFor(provider()));
    expect((await stat(store.dir)).mode & 0o777).toBe(0o700);
    expect(records.map((r) => r.event)).toContain("oauth2_token_cache_permissions_fixed");
  });

  it("sets a corrupt file aside, logs it, and treats it as absent", async () => {
    const { store, records } = await setup();
    const p = provider();
    await store.write(tokenFor(p));
    await writeFile(store.pathFor(p.id), "{ not json");
    expect(await store.read(p)).toEqual({ kind: "absent" });
    const files = await readdir(store.dir);
    const aside = files.find((f) => f.includes(".corrupt-"));
    expect(aside).toBeDefined();
    expect(await readFile(join(store.dir, aside as string), "utf8")).toBe("{ not json");
    expect(records.find((r) => r.event === "oauth2_token_cache_corrupt")).toMatchObject({
      level: "warn",
      provider: "corp/eu",
    });
  });

  it("sets aside a file that parses but has the wrong shape or another provider's id", async () => {
    const { store } = await setup();
    const p = provider();
    await store.write({ ...tokenFor(p), providerId: "someone-else" });
    expect(await store.read(p)).toEqual({ kind: "absent" });
  });

  it("reports a token minted for another issuer, client or audience as foreign", async () => {
    const { store } = await setup();
    const p = provider();
    await store.write(tokenFor(p));
    for (const changed of [
      provider({ issuer: "https://other-idp.example.com" }),
      provider({ clientId: "another" }),
      provider({ audience: "https://api.example.com" }),
      provider({ scopes: "openid profile" }),
    ]) {
      expect((await store.read(changed)).kind).toBe("foreign");
    }
    // The file itself is kept: switching the config back finds the token again.
    expect((await store.read(p)).kind).toBe("ok");
  });
});

describe("cache directory", () => {
  it("follows XDG on Linux, the platform dirs elsewhere, and an explicit override", () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/x" }, "linux", "/home/u")).toBe(
      "/x/opencode-oauth2",
    );
    expect(defaultCacheDir({}, "linux", "/home/u")).toBe("/home/u/.cache/opencode-oauth2");
    expect(defaultCacheDir({}, "darwin", "/Users/u")).toBe(
      "/Users/u/Library/Caches/opencode-oauth2",
    );
    expect(defaultCacheDir({ LOCALAPPDATA: "C:\\L" }, "win32", "C:\\U")).toContain(
      "opencode-oauth2",
    );
    expect(defaultCacheDir({ OPENCODE_OAUTH2_CACHE_DIR: "/c" }, "linux", "/h")).toBe("/c");
  });

  it("turns any provider id into one safe file name", () => {
    expect(fileSafe("corp")).toBe("corp");
    expect(fileSafe("../etc/passwd")).toBe("..%2Fetc%2Fpasswd");
    expect(fileSafe("..")).toBe("%2E%2E");
  });
});
