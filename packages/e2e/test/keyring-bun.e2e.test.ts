// The OS keyring inside opencode: its embedded Bun loads @napi-rs/keyring's native binding
// through the built core, saves and reads a token there (secret-tool reads it back), and with no
// session bus falls back to the file and says so once.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { opencodeBinPath, startChild, startKeyring, type TestKeyring } from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SCRIPT = fileURLToPath(new URL("./keyring/bun-store.mjs", import.meta.url));

let keyring: TestKeyring;
let root: string;
beforeAll(async () => {
  keyring = await startKeyring();
  root = await mkdtemp(join(tmpdir(), "keyring-bun-"));
});
afterAll(async () => {
  await keyring?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

async function inBun(name: string, storage: string, bus: Record<string, string>) {
  const accessToken = `at-${randomBytes(16).toString("hex")}`;
  const cacheDir = join(root, name);
  const result = await startChild(opencodeBinPath(), [SCRIPT], {
    env: {
      PATH: process.env.PATH,
      HOME: join(root, "home"),
      TMPDIR: root,
      BUN_BE_BUN: "1",
      STORAGE: storage,
      CACHE_DIR: cacheDir,
      ACCESS_TOKEN: accessToken,
      ...bus,
    },
    // The script's bare import resolves from the e2e package's node_modules.
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    timeoutMs: 60_000,
  }).done;
  expect(result.code, result.stderr).toBe(0);
  const file = await readFile(join(cacheDir, "tokens", "corp.json"), "utf8");
  return { out: JSON.parse(result.stdout), accessToken, file, cacheDir };
}

describe("the keyring in opencode's Bun", () => {
  it("storage keyring: the token is in the keyring, not the file", async () => {
    const bus = { DBUS_SESSION_BUS_ADDRESS: keyring.env.DBUS_SESSION_BUS_ADDRESS };
    const { out, accessToken, file, cacheDir } = await inBun("keyring", "keyring", bus);
    expect(out).toEqual({
      runtime: "bun",
      saved: "keyring",
      read: "keyring",
      same: true,
      events: [],
    });
    expect(file).not.toContain(accessToken);
    const stored = await keyring.lookup({
      service: "opencode-oauth2",
      username: `corp@${join(cacheDir, "tokens")}`,
    });
    expect(JSON.parse(stored ?? "{}").accessToken).toBe(accessToken);
  });

  it("storage auto with no session bus: the file, said once", async () => {
    const { out, accessToken, file } = await inBun("auto", "auto", {});
    expect(out).toMatchObject({ runtime: "bun", saved: "file", read: "file", same: true });
    expect(out.events).toEqual([
      expect.objectContaining({
        event: "oauth2_keyring_unavailable",
        storage: "auto",
        operation: "write",
        fallback: "file",
      }),
    ]);
    expect(file).toContain(accessToken);
  });
});
