import { homedir } from "node:os";
import { join } from "node:path";

const APP = "opencode-oauth2";

/**
 * The platform cache directory for this app, shared by every package and process:
 * - `$OPENCODE_OAUTH2_CACHE_DIR` when set (tests, unusual setups);
 * - Linux and others: `$XDG_CACHE_HOME/opencode-oauth2`, else `~/.cache/opencode-oauth2`;
 * - macOS: `~/Library/Caches/opencode-oauth2`;
 * - Windows: `%LOCALAPPDATA%\opencode-oauth2\Cache`.
 */
export function defaultCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = env.HOME ?? homedir(),
): string {
  if (env.OPENCODE_OAUTH2_CACHE_DIR) return env.OPENCODE_OAUTH2_CACHE_DIR;
  if (platform === "darwin") return join(home, "Library", "Caches", APP);
  if (platform === "win32") {
    return join(env.LOCALAPPDATA ?? join(home, "AppData", "Local"), APP, "Cache");
  }
  return join(env.XDG_CACHE_HOME || join(home, ".cache"), APP);
}

/** A provider id as a file name: anything outside [A-Za-z0-9._-] is percent-encoded. */
export function fileSafe(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9._-]/g, (ch) =>
    [...Buffer.from(ch)].map((b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`).join(""),
  );
  return safe === "." || safe === ".." ? safe.replace(/\./g, "%2E") : safe;
}
