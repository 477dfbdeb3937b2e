import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningChild, startChild } from "./child.js";
import { startOnFreePort } from "./free-port.js";

/**
 * A real forward proxy — Debian's `tinyproxy` (.ci/run installs it) — on 127.0.0.1 for one
 * test file, its config and log in a temp dir. Its own log is the witness: `tunnels()` lists
 * the CONNECTs it established, `requests()` every request line it was sent (refused ones too).
 * tinyproxy cannot listen on port 0, so a free port is picked and the start retried on another
 * when something took it in between.
 */

export interface ForwardProxyOptions {
  /** Ports CONNECT may reach (tinyproxy's `ConnectPort`); default: any. */
  readonly connectPorts?: readonly number[];
  /** Require these credentials (tinyproxy's `BasicAuth`): letters, digits, `-` and `_` only. */
  readonly basicAuth?: { readonly user: string; readonly password: string };
}

export interface ForwardProxy {
  /** `http://127.0.0.1:<port>`, without credentials. */
  readonly url: string;
  /** With the credentials of `basicAuth` when set: what HTTPS_PROXY gets. */
  readonly urlWithCredentials: string;
  readonly port: number;
  /** Request lines it received, e.g. `CONNECT 127.0.0.1:8443`, `GET http://127.0.0.1:9/x`. */
  requests(): Promise<string[]>;
  /** The host of every tunnel or connection it established to a server (refused ones are not). */
  tunnels(): Promise<string[]>;
  /** Its whole log (for a failing assertion's message). */
  log(): Promise<string>;
  close(): Promise<void>;
}

const START_ATTEMPTS = 5;

function config(port: number, logFile: string, options: ForwardProxyOptions): string {
  const lines = [
    `Port ${port}`,
    "Listen 127.0.0.1",
    "Allow 127.0.0.1",
    `LogFile "${logFile}"`,
    "LogLevel Connect",
    "MaxClients 50",
    "Timeout 30",
    "DisableViaHeader Yes",
    ...(options.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
  ];
  if (options.basicAuth) {
    lines.push(`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`);
  }
  return `${lines.join("\n")}\n`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Starts tinyproxy on `port`; resolves once it accepts connections, rejects when it exits. */
async function launch(port: number, confFile: string): Promise<RunningChild> {
  const running = startChild("tinyproxy", ["-d", "-c", confFile], {
    env: { PATH: process.env.PATH ?? "" },
  });
  let exited: string | undefined;
  running.done.then(
    (r) => {
      exited = `tinyproxy exited (${r.code ?? r.signal}):\n${r.stdout}${r.stderr}`;
    },
    (error: NodeJS.ErrnoException) => {
      exited =
        error.code === "ENOENT"
          ? "tinyproxy is not installed: apt-get install tinyproxy"
          : String(error);
    },
  );
  running.child.once("error", (error: NodeJS.ErrnoException) => {
    exited =
      error.code === "ENOENT"
        ? "tinyproxy is not installed: apt-get install tinyproxy"
        : String(error);
  });
  for (let waited = 0; waited < 5000; waited += 20) {
    if (exited) throw new Error(exited);
    if (await accepts(port)) return running;
    await new Promise((r) => setTimeout(r, 20));
  }
  running.kill("SIGKILL");
  throw new Error(`tinyproxy did not listen on ${port} within 5 s`);
}

export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const dir = await mkdtemp(join(tmpdir(), "testkit-proxy-"));
  const logFile = join(dir, "tinyproxy.log");
  const confFile = join(dir, "tinyproxy.conf");
  const { port, started: running } = await startOnFreePort(async (candidate) => {
    await writeFile(confFile, config(candidate, logFile, options));
    return launch(candidate, confFile);
  }, START_ATTEMPTS).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  const log = () => readFile(logFile, "utf8").catch(() => "");
  const matches = async (pattern: RegExp) =>
    [...(await log()).matchAll(pattern)].map((m) => m[1] ?? "");
  const auth = options.basicAuth;
  const url = `http://127.0.0.1:${port}`;
  const child = running;
  return {
    url,
    urlWithCredentials: auth ? `http://${auth.user}:${auth.password}@127.0.0.1:${port}` : url,
    port,
    log,
    requests: () => matches(/Request \(file descriptor \d+\): (\S+ \S+)/g),
    tunnels: () => matches(/Established connection to host "([^"]+)"/g),
    async close() {
      if (child.child.exitCode === null && child.child.signalCode === null) child.kill("SIGTERM");
      await child.done.catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
