import { spawn } from "node:child_process";
import { type OpencodeHome, opencodeBinPath } from "@vymalo/testkit";

/** Terminal colour/cursor sequences in opencode's output. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");

/**
 * `opencode auth login <url>`: opencode fetches the manifest and runs its auth.command (our CLI,
 * device flow). The user code appears in the output; `approve` plays the user.
 */
export function loginThroughWellKnown(
  home: OpencodeHome,
  url: string,
  approve: (verificationUri: string, userCode: string) => Promise<void>,
  timeoutMs = 90_000,
): Promise<{ ok: boolean; summary: string }> {
  return new Promise((resolve) => {
    const child = spawn(opencodeBinPath(), ["auth", "login", url], {
      cwd: home.projectDir,
      env: home.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    let approving: Promise<void> | undefined;
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/open\s+(\S+)\s+enter\s+(\S+)/);
      if (match && !approving) approving = approve(match[1] as string, match[2] as string);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    }, timeoutMs);
    child.on("exit", async (code) => {
      clearTimeout(timer);
      await approving?.catch(() => {});
      const lines = output
        .split("\n")
        .map((line) => line.replace(ANSI, "").trim())
        .filter(Boolean);
      resolve({ ok: code === 0, summary: `${lines.slice(-6).join("\n")}\n(exit ${code})` });
    });
  });
}
