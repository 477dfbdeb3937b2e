import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { type ChildResult, startChild } from "./child.js";

/** A child process driven line by line: a line on its stdin, a JSON line back on its stdout. */
export interface LineWorker<Reply> {
  child: ChildProcess;
  /** Writes `line` and a newline to its stdin. */
  send(line: string): void;
  /**
   * Its next reply, in order. Rejects when it exits first (with what it printed on stderr),
   * or when `timeoutMs` is given and passes.
   */
  next(timeoutMs?: number): Promise<Reply>;
  /** Closes its stdin and kills it. */
  stop(): void;
  /** Everything printed so far. */
  output(): { stdout: string; stderr: string };
  /** Settles when it has exited and its output is closed. */
  done: Promise<ChildResult>;
}

/** Starts `command args…` (see `startChild`) with an open stdin, reading its stdout as JSON lines. */
export function startLineWorker<Reply>(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): LineWorker<Reply> {
  const running = startChild(command, args, { ...options, stdin: { open: true } });
  const { child } = running;
  const queued: Reply[] = [];
  const waiting: Array<(reply: Reply) => void> = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    const reply = JSON.parse(line) as Reply;
    const waiter = waiting.shift();
    if (waiter) waiter(reply);
    else queued.push(reply);
  });
  const exited = running.done.then((r): never => {
    throw new Error(`${command} exited (${r.code ?? r.signal}):\n${r.stderr.slice(-2000)}`);
  });
  exited.catch(() => {});
  return {
    child,
    send: (line) => child.stdin?.write(`${line}\n`),
    next(timeoutMs) {
      const reply = new Promise<Reply>((resolve, reject) => {
        const first = queued.shift();
        if (first) return resolve(first);
        const timer =
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => reject(new Error(`no reply in ${timeoutMs} ms`)), timeoutMs);
        waiting.push((r) => {
          if (timer) clearTimeout(timer);
          resolve(r);
        });
      });
      return Promise.race([reply, exited]);
    },
    stop() {
      child.stdin?.end();
      running.kill("SIGKILL");
    },
    output: () => running.output(),
    done: running.done,
  };
}
