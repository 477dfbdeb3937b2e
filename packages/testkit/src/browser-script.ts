import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Single-quotes a string for POSIX sh. */
const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * Writes an executable `$BROWSER` stand-in into `dir`: it appends its first argument (the
 * URL) as one line to `logFile` and exits 0 immediately. Returns the script's path.
 */
export async function writeBrowserScript(dir: string, logFile: string): Promise<string> {
  const path = join(dir, "test-browser.sh");
  await writeFile(path, `#!/bin/sh\nprintf '%s\\n' "$1" >> ${shellQuote(logFile)}\nexit 0\n`);
  await chmod(path, 0o755);
  return path;
}

/** The URLs the `$BROWSER` script was asked to open, in order ([] when none yet). */
export async function readOpenedUrls(logFile: string): Promise<string[]> {
  try {
    const text = await readFile(logFile, "utf8");
    return text.split("\n").filter((line) => line.length > 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}
