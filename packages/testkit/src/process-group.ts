import { type ChildResult, startChild } from "./child.js";

export interface RunProcessOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  stdin?: string;
}

/** How a process ended and what it printed. */
export type ProcessResult = ChildResult;

/** Runs a process in its own process group to its end (see `startChild`'s `processGroup`). */
export function runProcess(
  command: string,
  args: string[],
  options: RunProcessOptions,
): Promise<ProcessResult> {
  return startChild(command, args, { ...options, processGroup: true }).done;
}
