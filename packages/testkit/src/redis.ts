import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningChild, startChild } from "./child.js";
import { startOnFreePort } from "./free-port.js";

/**
 * A real `redis-server` (the Debian package; .ci/run installs it) on 127.0.0.1 for one test
 * file: no persistence (`--save ''`, `--appendonly no`), its working directory a temp dir that
 * `close()` removes. Redis cannot listen on port 0 and say which port it got, so a free port is
 * picked first (bind 0, read it, release it) and the start is retried on another one when
 * something took it in between.
 */

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Kills the server at once (SIGKILL): a crash, as the clients see one. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty (after `kill`). */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

const READY = "Ready to accept connections";
const START_ATTEMPTS = 5;

/** Starts redis-server on `port`; resolves once it accepts connections, rejects when it exits. */
function launch(port: number, dir: string): Promise<RunningChild> {
  const running = startChild(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "no",
    ],
    { env: { PATH: process.env.PATH ?? "" } },
  );
  return new Promise((resolve, reject) => {
    const check = () => {
      if (running.output().stdout.includes(READY)) resolve(running);
    };
    running.child.stdout?.on("data", check);
    running.child.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new Error("redis-server is not installed: apt-get install redis-server")
          : error,
      ),
    );
    running.done.then(
      (r) => reject(new Error(`redis-server exited (${r.code ?? r.signal}):\n${r.stdout}`)),
      reject,
    );
  });
}

export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), "testkit-redis-"));
  const { port, started } = await startOnFreePort(
    (candidate) => launch(candidate, dir),
    START_ATTEMPTS,
  ).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  let current: RunningChild | undefined = started;
  const stop = async (signal: NodeJS.Signals) => {
    const child = current;
    current = undefined;
    if (!child) return;
    if (child.child.exitCode === null && child.child.signalCode === null) child.kill(signal);
    await child.done.catch(() => undefined);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => stop("SIGKILL"),
    async restart() {
      await stop("SIGKILL");
      current = await launch(port, dir);
    },
    async close() {
      await stop("SIGTERM");
      await rm(dir, { recursive: true, force: true });
    },
  };
}
