import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/**
 * Makes `dir` (and parents) exist with mode 0700. Returns true when an existing directory had
 * looser permissions and was tightened.
 */
export async function ensurePrivateDir(dir: string): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (process.platform === "win32") return false;
  const mode = (await stat(dir)).mode & 0o777;
  if (mode !== DIR_MODE) {
    await chmod(dir, DIR_MODE);
    return true;
  }
  return false;
}

/**
 * Writes `data` to `path` atomically: a 0600 temp file beside it, flushed to disk, then renamed
 * over the target. A reader sees the old file or the new one, never a torn write, even when the
 * writer is killed half-way (the temp file is left behind, never the target half-written).
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  await ensurePrivateDir(dirname(path));
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temp, "wx", FILE_MODE);
  try {
    await handle.writeFile(data, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
