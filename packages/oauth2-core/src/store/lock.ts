import { randomBytes } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { ensurePrivateDir, writeFileAtomic } from "./atomic-file.js";

/**
 * proper-lockfile (and the graceful-fs it patches in) loads on the first lock, not with the
 * store: reading a fresh token, which is all most starts do, never takes the lock.
 */
let lockfile: ReturnType<typeof importLockfile> | undefined;
const importLockfile = () => import("proper-lockfile").then((m) => m.default);
const loadLockfile = () => {
  lockfile ??= importLockfile();
  return lockfile;
};

export interface LockOptions {
  /** A lock older than this (ms) whose holder stopped updating it is taken over. proper-lockfile
   * never goes below 2000. */
  staleMs?: number;
  /** How long to wait for the lock before giving up (ms). */
  waitMs?: number;
}

/** What the holder of a lock can ask about it while it works. */
export interface LockLease {
  /**
   * False when another process may have taken the lock over: this process was paused (laptop
   * sleep, Ctrl-Z, a debugger) long enough for the lock to turn stale, and the owner mark beside
   * the lock is no longer its own. Ask right before an action that must not happen twice
   * (spending a rotating refresh token) and before writing.
   */
  held(): Promise<boolean>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` while holding a cross-process lock on `path` (a `<path>.lock` directory kept fresh
 * by proper-lockfile; a holder killed with -9 stops refreshing it and it turns stale). Used so
 * two processes never spend the same rotating refresh token.
 *
 * A holder that was only paused resumes after another process took the lock over. proper-lockfile
 * notices on its next update and calls `onCompromised`, whose default throws from a timer — an
 * uncaught ECOMPROMISED that crashed the process. Here it marks the lease lost instead, and
 * `lease.held()` also checks, without waiting for that timer, whether the event loop stood
 * still long enough for a takeover and whose mark `<path>.lock-owner` carries. A lost lock is
 * not released: that would remove the new holder's lock.
 */
export async function withFileLock<T>(
  path: string,
  fn: (lease: LockLease) => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  await ensurePrivateDir(dirname(path));
  // proper-lockfile's own bounds, so the pause we treat as a possible takeover matches its.
  const staleMs = Math.max(options.staleMs ?? 10_000, 2000);
  const updateMs = Math.max(Math.floor(staleMs / 2), 1000);
  const waitMs = options.waitMs ?? 30_000;
  let compromised = false;
  const release = await (await loadLockfile()).lock(path, {
    realpath: false,
    lockfilePath: `${path}.lock`,
    stale: staleMs,
    update: updateMs,
    retries: { retries: Math.ceil(waitMs / 50), factor: 1.2, minTimeout: 10, maxTimeout: 100 },
    onCompromised: () => {
      compromised = true;
    },
  });

  const ownerFile = `${path}.lock-owner`;
  const mark = randomBytes(16).toString("hex");
  await writeFileAtomic(ownerFile, mark);
  // The lock's mtime is refreshed every updateMs; a pause longer than staleMs - updateMs can
  // let it turn stale. Half of that is the stand-still we count as "maybe taken over".
  const standStillMs = (staleMs - updateMs) / 2;
  const tickMs = Math.max(20, Math.min(250, standStillMs / 4));
  let lastTick = Date.now();
  let stoodStill = false;
  const tick = () => {
    const now = Date.now();
    if (now - lastTick > standStillMs) stoodStill = true;
    lastTick = now;
  };
  const ticker = setInterval(tick, tickMs);
  ticker.unref();

  let lost = false;
  const lease: LockLease = {
    async held() {
      tick();
      if (!lost && stoodStill && !compromised) {
        // A process that took the lock over writes its mark right after; give it that moment.
        await pause(100);
      }
      if (!lost) {
        const owner = await readFile(ownerFile, "utf8").catch(() => undefined);
        lost = compromised || owner !== mark;
      }
      return !lost;
    },
  };
  try {
    return await fn(lease);
  } finally {
    clearInterval(ticker);
    if (await lease.held()) {
      await rm(ownerFile, { force: true });
      await release().catch(() => {});
    }
  }
}
