// A process holding a provider's lock is paused (laptop sleep, Ctrl-Z) for longer than the
// lock's stale time. Another process takes the lock over and refreshes, spending the rotating
// refresh token. When the first one resumes it must not crash (an uncaught ECOMPROMISED from
// proper-lockfile's timer did), must not spend the refresh token again, and must re-read the
// cache: it ends with the other process's token.
import { fileURLToPath } from "node:url";
import { startLineWorker } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { fingerprint } from "../../src/log.js";
import { eventsNamed, type Harness, loggedIn } from "../helpers.js";

const PAUSED = fileURLToPath(new URL("../fixtures/paused-refresher.mjs", import.meta.url));
/** proper-lockfile's floor: the lock turns stale 2 s after its holder last touched it. */
const STALE_MS = 2000;

let h: Harness | undefined;
const stopped: number[] = [];
afterEach(async () => {
  for (const pid of stopped.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await h?.close();
});

interface Line {
  holding?: boolean;
  status?: string;
  source?: string;
  fingerprint?: string;
  code?: string;
  detail?: string;
  events?: string[];
}

function startPaused(issuer: string, cacheDir: string) {
  const worker = startLineWorker<Line>(process.execPath, [PAUSED], {
    env: { ...process.env, ISSUER: issuer, CACHE_DIR: cacheDir, LOCK_STALE_MS: String(STALE_MS) },
  });
  stopped.push(worker.child.pid as number);
  return {
    child: worker.child,
    stderr: () => worker.output().stderr,
    exited: worker.done.then((r) => r.code),
    next: () => worker.next(),
  };
}

describe("a lock holder paused past the stale time", () => {
  it("resumes without crashing, never re-spends the refresh token, and uses the other process's token", async () => {
    const session = await loggedIn({ engine: { lockStaleMs: STALE_MS } });
    h = session.h;
    const { engine, provider, first } = session;
    await engine.invalidate(provider, first.accessToken); // expired: the next ensure refreshes

    const paused = startPaused(h.idp.issuer, h.cacheDir);
    expect(await paused.next()).toEqual({ holding: true }); // it holds the lock, about to refresh
    paused.child.kill("SIGSTOP");

    // This process waits for the lock, takes it over once stale, and refreshes.
    const other = await engine.ensureAccessToken(provider);
    expect(other).toMatchObject({ status: "ok", source: "refresh" });
    if (other.status !== "ok") return;

    paused.child.kill("SIGCONT");
    paused.child.stdin?.write("go\n");
    const outcome = await paused.next();
    expect(await paused.exited).toBe(0);
    expect(paused.stderr()).not.toMatch(/ECOMPROMISED|Unhandled|Error/);
    expect(outcome).toMatchObject({
      status: "ok",
      source: "cache",
      fingerprint: fingerprint(other.accessToken),
    });
    expect(outcome.events).toContain("oauth2_lock_lost");
    expect(outcome.events).not.toContain("oauth2_token_refresh_failed");

    // The IdP saw the first refresh token once, and no error.
    const refreshes = h.idp.tokenRequests.filter((r) => r.grantType === "refresh_token");
    expect(refreshes).toHaveLength(1);
    expect(h.idp.grantErrors).toEqual([]);
    expect(eventsNamed(h.records, "oauth2_token_refreshed")).toHaveLength(1);
  });
});
