import { type ChildProcess, spawn } from "node:child_process";

/** How a process ended and what it printed. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to closed output. */
  durationMs: number;
  /** Whether `timeoutMs` ran out and the process was killed. */
  timedOut: boolean;
}

export interface RunningChild {
  child: ChildProcess;
  /** Everything printed so far; `all` is stdout and stderr interleaved as they arrived. */
  output(): { stdout: string; stderr: string; all: string };
  /** Signals the process (its whole group with `processGroup`). */
  kill(signal: NodeJS.Signals): void;
  /** Settles when the process has exited and its output is closed. */
  done: Promise<ChildResult>;
}

export interface StartChildOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Written to stdin, then stdin is closed; `{ open: true }` leaves `child.stdin` open for the caller to
   * write to (a worker that takes commands line by line). Without it stdin is `/dev/null`.
   */
  stdin?: string | { open: true };
  /** Called with all of stdout so far, on every chunk. */
  onStdout?: (stdout: string) => void;
  /** Called with all of stderr so far, on every chunk (to react to a prompt or a code). */
  onStderr?: (stderr: string) => void;
  /** Called with stdout and stderr so far, interleaved, on every chunk of either. */
  onOutput?: (all: string) => void;
  /**
   * Kill after this long. Default: never. A single process gets SIGKILL; a process group gets
   * SIGTERM, then SIGKILL 3 s later.
   */
  timeoutMs?: number;
  /**
   * Run it in its own process group, and kill the group when it exits: leftover children
   * (language servers, ripgrep… under opencode) would otherwise keep the pipes open.
   */
  processGroup?: boolean;
}

/**
 * Starts `command args…` (no shell) and collects its output: the one way tests and benches run
 * a child process whose output they read.
 */
export function startChild(
  command: string,
  args: string[],
  options: StartChildOptions = {},
): RunningChild {
  const started = performance.now();
  const group = options.processGroup === true;
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    ...(group ? { detached: true, windowsHide: true } : {}),
  });
  const kill = (signal: NodeJS.Signals) => (group ? killGroup(child, signal) : child.kill(signal));
  let stdout = "";
  let stderr = "";
  let all = "";
  // Decoded as a stream: a character split across two chunks stays whole.
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    stdout += chunk;
    all += chunk;
    options.onStdout?.(stdout);
    options.onOutput?.(all);
  });
  child.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
    all += chunk;
    options.onStderr?.(stderr);
    options.onOutput?.(all);
  });
  if (typeof options.stdin === "string" && child.stdin) {
    child.stdin.on("error", () => {});
    child.stdin.end(options.stdin);
  }
  let timedOut = false;
  let hardKill: NodeJS.Timeout | undefined;
  const timer = options.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        if (!group) return kill("SIGKILL");
        kill("SIGTERM");
        hardKill = setTimeout(() => kill("SIGKILL"), 3_000);
        hardKill.unref();
      }, options.timeoutMs)
    : undefined;
  const stopTimers = () => {
    if (timer) clearTimeout(timer);
    if (hardKill) clearTimeout(hardKill);
  };
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.once("error", (error) => {
      stopTimers();
      reject(error);
    });
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      if (group) killGroup(child, "SIGKILL");
    });
    child.once("close", (code, signal) => {
      stopTimers();
      resolve({
        code: exit?.code ?? code,
        signal: exit?.signal ?? signal,
        stdout,
        stderr,
        durationMs: Math.round(performance.now() - started),
        timedOut,
      });
    });
  });
  return { child, output: () => ({ stdout, stderr, all }), kill, done };
}

/** Signals the process group `child` leads (or the child alone when that fails). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}
