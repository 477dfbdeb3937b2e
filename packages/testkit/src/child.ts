import { type ChildProcess, spawn } from "node:child_process";

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningChild {
  child: ChildProcess;
  /** Everything printed so far. */
  output(): { stdout: string; stderr: string };
  /** Settles when the process has exited and its output is closed. */
  done: Promise<ChildResult>;
}

export interface StartChildOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with all of stderr so far, on every chunk (to react to a prompt or a code). */
  onStderr?: (stderr: string) => void;
  /** SIGKILL after this long. Default: never. */
  timeoutMs?: number;
}

/**
 * Starts `command args…` (no shell, stdin closed) and collects its output: the one way tests
 * run a child process whose output they read.
 */
export function startChild(
  command: string,
  args: string[],
  options: StartChildOptions = {},
): RunningChild {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
    options.onStderr?.(stderr);
  });
  const timer = options.timeoutMs
    ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs)
    : undefined;
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, output: () => ({ stdout, stderr }), done };
}
