import { opencodeBinPath } from "./opencode-binary.js";
import type { OpencodeHome } from "./opencode-home.js";
import { type ProcessResult, type RunProcessOptions, runProcess } from "./process-group.js";

export interface RunOpencodeOptions {
  /** Kill the process group after this long. Default 60 000 ms. */
  timeoutMs?: number;
  /** Written to stdin, then stdin is closed. Without it stdin is `/dev/null`. */
  stdin?: string;
  /** Variables added on top of `home.env` for this run. */
  extraEnv?: Record<string, string>;
  /** Working directory. Default `home.projectDir`. */
  cwd?: string;
}

export type OpencodeRunResult = ProcessResult;

/** Runs `opencode <args…>` (no shell) in the isolated home and collects its output. */
export function runOpencode(
  home: OpencodeHome,
  args: string[],
  options: RunOpencodeOptions = {},
): Promise<OpencodeRunResult> {
  const runOptions: RunProcessOptions = {
    cwd: options.cwd ?? home.projectDir,
    env: { ...home.env, ...options.extraEnv },
    timeoutMs: options.timeoutMs ?? 60_000,
  };
  if (options.stdin !== undefined) runOptions.stdin = options.stdin;
  return runProcess(opencodeBinPath(), args, runOptions);
}
