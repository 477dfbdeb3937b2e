import { dirname } from "node:path";
import { ensurePrivateDir } from "./atomic-file.js";

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
  /** A lock older than this (ms) whose holder stopped updating it is taken over. */
  staleMs?: number;
  /** How long to wait for the lock before giving up (ms). */
  waitMs?: number;
}

/**
 * Runs `fn` while holding a cross-process lock on `path` (a `<path>.lock` directory kept fresh
 * by proper-lockfile; a holder killed with -9 stops refreshing it and it turns stale). Used so
 * two processes never spend the same rotating refresh token.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  await ensurePrivateDir(dirname(path));
  const staleMs = options.staleMs ?? 10_000;
  const waitMs = options.waitMs ?? 30_000;
  const release = await (await loadLockfile()).lock(path, {
    realpath: false,
    lockfilePath: `${path}.lock`,
    stale: staleMs,
    update: Math.max(1000, Math.floor(staleMs / 2)),
    retries: { retries: Math.ceil(waitMs / 50), factor: 1.2, minTimeout: 10, maxTimeout: 100 },
  });
  try {
    return await fn();
  } finally {
    await release().catch(() => {});
  }
}
