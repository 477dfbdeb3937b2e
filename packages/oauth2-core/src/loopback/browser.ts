import { spawn } from "node:child_process";

/** Opens a URL for the user; resolves false when no opener could be started. */
export type BrowserOpener = (url: string) => Promise<boolean>;

/**
 * The command that opens `url`: `$BROWSER` when set (the first of a `:`-separated list; `%s`
 * is replaced by the URL, else the URL is appended), else the platform opener.
 */
export function openerCommand(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): { command: string; args: string[] } {
  const configured = env.BROWSER?.split(":").find((entry) => entry.trim() !== "");
  if (configured) {
    const parts = configured.trim().split(/\s+/);
    const [command, ...rest] = parts as [string, ...string[]];
    const hasPlaceholder = rest.some((part) => part.includes("%s"));
    const args = hasPlaceholder ? rest.map((part) => part.replaceAll("%s", url)) : [...rest, url];
    return { command, args };
  }
  if (platform === "darwin") return { command: "open", args: [url] };
  if (platform === "win32")
    return { command: "rundll32", args: ["url.dll,FileProtocolHandler", url] };
  return { command: "xdg-open", args: [url] };
}

/** The default opener: spawns the command detached, never through a shell. */
export const systemBrowserOpener: BrowserOpener = (url) =>
  new Promise((resolve) => {
    const { command, args } = openerCommand(url);
    try {
      const child = spawn(command, args, { detached: true, stdio: "ignore" });
      child.once("error", () => resolve(false));
      child.once("spawn", () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
