// 4 OS processes × 25 refreshes against an IdP that rotates refresh tokens: every round the
// token is expired and all 4 race on it at once. The file lock must make it one refresh per
// round across processes — a rotated-away refresh token spent twice would be `invalid_grant`
// and, for the loser, a forced re-login.
import { fileURLToPath } from "node:url";
import {
  type LineWorker,
  publicNativeClient,
  startKeyring,
  startLineWorker,
  type TestKeyring,
} from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderConfig } from "../../src/config/schema.js";
import type { TokenEngine } from "../../src/engine.js";
import { type Harness, harness } from "../helpers.js";

const RACER = fileURLToPath(new URL("../fixtures/refresh-racer.mjs", import.meta.url));
const PROCESSES = 4;
const ROUNDS = 25;

interface Reply {
  round?: number;
  ready?: boolean;
  status?: string;
  source?: string;
  reason?: string;
  code?: string;
  detail?: string;
  fingerprint?: string;
  events?: string[];
}

type Racer = LineWorker<Reply>;

/** The same race with the tokens in the file and in a real OS keyring (the lock stays a file). */
const STORAGES = ["file", "keyring"] as const;

describe.each(STORAGES)("storage %s", (storage) => {
  let h: Harness;
  let engine: TokenEngine;
  let provider: ProviderConfig;
  let keyring: TestKeyring | undefined;
  const racers: Racer[] = [];
  const busEnv: Record<string, string> = {};

  function startRacer(): Racer {
    return startLineWorker<Reply>(process.execPath, [RACER], {
      env: {
        ...process.env,
        ...busEnv,
        ISSUER: h.idp.issuer,
        CACHE_DIR: h.cacheDir,
        STORAGE: storage,
      },
    });
  }

  beforeAll(async () => {
    if (storage === "keyring") {
      keyring = await startKeyring();
      busEnv.DBUS_SESSION_BUS_ADDRESS = keyring.env.DBUS_SESSION_BUS_ADDRESS;
      // This process invalidates the token each round: its writes go to the same keyring.
      process.env.DBUS_SESSION_BUS_ADDRESS = keyring.env.DBUS_SESSION_BUS_ADDRESS;
    }
    h = await harness({
      clients: [publicNativeClient("cli")],
      rotateRefreshToken: true,
      accessTokenTtl: 60,
    });
    engine = h.engine();
    provider = h.provider({
      clientId: "cli",
      scopes: "openid offline_access",
      tokenExpirySkewMs: 1000,
      storage,
    });
    await engine.login(provider);
    expect(await engine.cached(provider)).toMatchObject({ kind: "ok", location: storage });
    for (let i = 0; i < PROCESSES; i += 1) racers.push(startRacer());
    for (const racer of racers) expect(await racer.next(15_000)).toEqual({ ready: true });
  });

  afterAll(async () => {
    for (const racer of racers) {
      racer.stop();
    }
    await h?.close();
    await keyring?.close();
  });

  describe("4 processes × 25 refreshes on a rotating refresh token", () => {
    it("refreshes once per round, every ensure succeeds, and the IdP never sees invalid_grant", async () => {
      const rounds: Reply[][] = [];
      let previous: string | undefined;
      for (let round = 1; round <= ROUNDS; round += 1) {
        const cached = await engine.cached(provider);
        if (cached.kind !== "ok") throw new Error(`round ${round}: no cached token`);
        // Expire the current token (what a 401 does), then let all 4 race on it at once.
        expect(await engine.invalidate(provider, cached.token.accessToken)).toBe(true);
        for (const racer of racers) racer.send(String(round));
        const replies = await Promise.all(racers.map((racer) => racer.next(15_000)));
        rounds.push(replies);

        for (const reply of replies) {
          // No forced re-login, no error: every process got a token, every time.
          expect(reply, JSON.stringify(reply)).toMatchObject({ round, status: "ok" });
        }
        const fingerprints = new Set(replies.map((r) => r.fingerprint));
        expect(fingerprints.size, `round ${round}: processes disagree`).toBe(1);
        const [current] = [...fingerprints];
        expect(current).not.toBe(previous);
        previous = current;
        // Exactly one process refreshed; the others used its token.
        expect(replies.filter((r) => r.source === "refresh")).toHaveLength(1);
      }

      expect(h.idp.grantErrors).toEqual([]);
      // Every racer wrote where the storage says.
      expect(await engine.cached(provider)).toMatchObject({ kind: "ok", location: storage });
      expect(h.idp.countGrants("refresh_token")).toBe(ROUNDS);
      const all = rounds.flat();
      expect(all).toHaveLength(PROCESSES * ROUNDS);
      expect(all.flatMap((r) => r.events ?? [])).not.toContain("oauth2_login_required");
      expect(all.flatMap((r) => r.events ?? [])).not.toContain("oauth2_token_refresh_failed");
      // The race was real: in most rounds at least one process waited on the lock and then took
      // the token another process had just refreshed.
      const contended = rounds.filter((replies) =>
        replies.some((r) => r.events?.includes("oauth2_token_refreshed_by_other_process")),
      ).length;
      expect(contended).toBeGreaterThanOrEqual(ROUNDS / 2);
    });
  });
});
