import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type ChildResult, startChild } from "@vymalo/testkit";

const RECORDER = fileURLToPath(new URL("./record-imports.mjs", import.meta.url));

export interface RecordedRun extends ChildResult {
  /** Every module URL the process resolved, in order. */
  urls: string[];
  /** Which of the packages asked about it loaded (from any node_modules). */
  loaded: string[];
}

/**
 * `node --import record-imports.mjs <args…>` in a fresh process: its result, every module it
 * resolved (written to `record`) and which of `packages` were among them.
 */
export async function runRecorded(
  args: string[],
  options: { env: NodeJS.ProcessEnv; record: string; packages: string[]; cwd?: string },
): Promise<RecordedRun> {
  const run = startChild(process.execPath, ["--import", RECORDER, ...args], {
    env: { ...options.env, RECORD_IMPORTS_TO: options.record },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    timeoutMs: 60_000,
  });
  const result = await run.done;
  const urls = result.code === 0 ? (await readFile(options.record, "utf8")).split("\n") : [];
  const resolved = urls.filter(Boolean);
  const loaded = options.packages.filter((pkg) =>
    resolved.some((url) => url.includes(`/node_modules/${pkg}/`)),
  );
  return { ...result, urls: resolved, loaded };
}
