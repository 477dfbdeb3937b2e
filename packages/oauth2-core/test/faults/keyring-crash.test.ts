// The OS keyring's daemon dies in the middle of a read and the desktop starts it again.
// gnome-keyring aborts so when clients come and go quickly (an upstream race: GNOME
// gnome-keyring issues 190, 194, 196); CI saw it in contention.test.ts, where a racer's ensure
// answered cache_failed ("disconnected from message bus without replying") although its login
// was intact. A long-lived process (opencode's plugin, the gateway) would have failed the same way.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { startKeyring, startLineWorker, type TestKeyring } from "@vymalo/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fingerprint } from "../../src/log.js";
import { KEYRING_SERVICE } from "../../src/store/token-store.js";
import { type Harness, loggedIn } from "../helpers.js";

const RACER = fileURLToPath(new URL("../fixtures/refresh-racer.mjs", import.meta.url));

interface Reply {
  ready?: boolean;
  status?: string;
  source?: string;
  code?: string;
  detail?: string;
  fingerprint?: string;
  events?: string[];
}

let keyring: TestKeyring;
let h: Harness | undefined;
const saved = process.env.DBUS_SESSION_BUS_ADDRESS;

beforeAll(async () => {
  keyring = await startKeyring();
  // The login below writes to this keyring from this process.
  process.env.DBUS_SESSION_BUS_ADDRESS = keyring.env.DBUS_SESSION_BUS_ADDRESS;
});

afterAll(async () => {
  process.env.DBUS_SESSION_BUS_ADDRESS = saved;
  await keyring?.close();
});

afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A login in the keyring, and another OS process that runs one ensure per line on it. */
async function loginAndStartProcess() {
  const session = await loggedIn({ provider: { storage: "keyring" } });
  h = session.h;
  const { engine, provider } = session;
  const worker = startLineWorker<Reply>(process.execPath, [RACER], {
    env: {
      ...process.env,
      ISSUER: h.idp.issuer,
      CACHE_DIR: h.cacheDir,
      STORAGE: "keyring",
    },
  });
  expect(await worker.next(15_000)).toEqual({ ready: true });
  const ensure = async () => {
    worker.send("1");
    return worker.next(15_000);
  };
  const attributes = { service: KEYRING_SERVICE, username: `${provider.id}@${engine.store.dir}` };
  return { ...session, worker, ensure, file: engine.store.pathFor(provider.id), attributes };
}

describe("the keyring daemon crashes in the middle of a read", () => {
  it("the read is tried once more on a new connection: the login keeps working, nothing is removed", async () => {
    const { first, worker, ensure, file, attributes } = await loginAndStartProcess();
    try {
      const cached = { status: "ok", source: "cache", fingerprint: fingerprint(first.accessToken) };
      // The process has talked to the keyring before, as a long-lived one has.
      expect(await ensure()).toMatchObject(cached);
      const before = await readFile(file, "utf8");

      const { crashed } = await keyring.crashOnNextCall();
      const during = ensure();
      await crashed;
      const reply = await during;
      expect(reply, JSON.stringify(reply)).toMatchObject(cached);
      expect(reply.events).toContain("oauth2_keyring_retried");
      expect(reply.events).not.toContain("oauth2_keyring_unavailable");

      // Nothing was moved aside or removed, and the next ensure works as before.
      expect(await readFile(file, "utf8")).toBe(before);
      const stored = JSON.parse((await keyring.lookup(attributes)) ?? "{}");
      expect(stored.accessToken).toBe(first.accessToken);
      expect(await ensure()).toMatchObject(cached);
    } finally {
      worker.stop();
    }
  });

  it("a daemon restarted between two reads (its sessions gone) is met on a new connection", async () => {
    const { first, worker, ensure } = await loginAndStartProcess();
    try {
      const cached = { status: "ok", source: "cache", fingerprint: fingerprint(first.accessToken) };
      expect(await ensure()).toMatchObject(cached);
      // Stopped and started again with the password, as after a crash the desktop restarted.
      await keyring.unlock();
      const reply = await ensure();
      expect(reply, JSON.stringify(reply)).toMatchObject(cached);
      expect(reply.events).not.toContain("oauth2_keyring_unavailable");
    } finally {
      worker.stop();
    }
  });
});
