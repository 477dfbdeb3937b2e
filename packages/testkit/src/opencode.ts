import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";

/** An opencode config object (`opencode.json`). */
export type OpencodeConfig = Record<string, unknown>;

// ---------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------

interface OpencodePackage {
  dir: string;
  version: string;
  bin: string;
}

let cachedPackage: OpencodePackage | undefined;

function opencodePackage(): OpencodePackage {
  if (cachedPackage) return cachedPackage;
  const require = createRequire(import.meta.url);
  const pkgJsonPath = require.resolve("opencode-ai/package.json");
  const dir = dirname(pkgJsonPath);
  const pkg = JSON.parse(readFileSync(pkgJsonPath, "utf8")) as {
    version?: string;
    bin?: string | Record<string, string>;
  };
  const relBin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin?.opencode;
  let bin = relBin ? resolve(dir, relBin) : "";
  if (!bin || !existsSync(bin)) {
    // The postinstall script links the platform binary to bin/opencode.exe; when it did not run,
    // use the platform package (an optional dependency of opencode-ai) directly.
    const platform = process.platform === "win32" ? "windows" : process.platform;
    const exe = process.platform === "win32" ? "opencode.exe" : "opencode";
    const fromOpencode = createRequire(pkgJsonPath);
    const candidates = [
      `opencode-${platform}-${process.arch}`,
      `opencode-${platform}-${process.arch}-baseline`,
      `opencode-${platform}-${process.arch}-musl`,
      `opencode-${platform}-${process.arch}-baseline-musl`,
    ];
    const found = candidates
      .map((name) => {
        try {
          return join(dirname(fromOpencode.resolve(`${name}/package.json`)), "bin", exe);
        } catch {
          return undefined;
        }
      })
      .find((p): p is string => p !== undefined && existsSync(p));
    if (!found) {
      throw new Error(
        `opencode binary not found: neither ${bin || "<bin>"} nor a platform package (${candidates.join(", ")}) is installed`,
      );
    }
    bin = found;
  }
  cachedPackage = { dir, version: pkg.version ?? "unknown", bin };
  return cachedPackage;
}

/**
 * Absolute path of the real opencode binary from the `opencode-ai` dependency
 * (`OPENCODE_TESTKIT_BIN` overrides it).
 */
export function opencodeBinPath(): string {
  const override = process.env.OPENCODE_TESTKIT_BIN;
  if (override) return override;
  return opencodePackage().bin;
}

/** Version of the installed `opencode-ai` package (e.g. `1.18.33`). */
export function opencodeVersion(): string {
  return opencodePackage().version;
}

// ---------------------------------------------------------------------------
// Isolated home
// ---------------------------------------------------------------------------

export interface OpencodeHomeOptions {
  /** Prefix of the temp directory name. Default `opencode-home-`. */
  prefix?: string;
  /** Parent of the temp directory. Default `os.tmpdir()`. */
  baseDir?: string;
  /**
   * `git init` the project dir (default true). Without a repository opencode treats `/` as the
   * worktree and merges every `opencode.json` / `.opencode/` it finds in the parent directories
   * of the project dir; with one it stops at the project dir.
   */
  git?: boolean;
  /** Global config written at creation (`$XDG_CONFIG_HOME/opencode/opencode.json`). */
  config?: OpencodeConfig;
  /** Project config written at creation (`<project>/opencode.json`). */
  projectConfig?: OpencodeConfig;
  /** Extra variables merged into `home.env`. */
  env?: Record<string, string>;
}

export type OpencodeConfigScope = "global" | "project" | "both";

export interface OpencodeHome {
  /** The temp directory holding everything below. */
  readonly root: string;
  readonly home: string;
  readonly configHome: string;
  readonly dataHome: string;
  readonly cacheHome: string;
  readonly stateHome: string;
  readonly tmpDir: string;
  /** Working directory of every opencode process (a git repo unless `git: false`). */
  readonly projectDir: string;
  /** `$XDG_CONFIG_HOME/opencode`: global config dir, seeded against the plugin npm install. */
  readonly configDir: string;
  /** `$XDG_DATA_HOME/opencode`: database, `auth.json`, `log/`. */
  readonly dataDir: string;
  /** `$XDG_DATA_HOME/opencode/log` */
  readonly logDir: string;
  /** `$XDG_DATA_HOME/opencode/auth.json` */
  readonly authFile: string;
  /** Stands in for `/etc/opencode` (managed config), via `OPENCODE_TEST_MANAGED_CONFIG_DIR`. */
  readonly managedConfigDir: string;
  /**
   * The complete environment of opencode processes: nothing is inherited from the test process
   * except `PATH`. Mutable: tests may add variables.
   */
  readonly env: Record<string, string>;
  /**
   * Writes `opencode.json` to the global config dir (default), the project dir, or both.
   * Overwrites what was there. Returns the written paths.
   */
  writeConfig(config: OpencodeConfig, options?: { scope?: OpencodeConfigScope }): Promise<string[]>;
  /** Writes `auth.json` (what `opencode auth login` / `providers login` store). */
  writeAuth(entries: Record<string, unknown>): Promise<string>;
  /** Reads `auth.json` (`{}` when missing). */
  readAuth(): Promise<Record<string, unknown>>;
  /** Writes a file below `root` (relative path) or at an absolute path; returns the path. */
  writeFile(path: string, content: string): Promise<string>;
  /**
   * Creates and seeds `<project>/.opencode` (where `plugins/`, `agent/`, `command/` and an
   * `opencode.json` can go) and returns its path.
   */
  projectConfigDir(): Promise<string>;
  /** Seeds any extra opencode config dir (e.g. one passed as `OPENCODE_CONFIG_DIR`). */
  seedConfigDir(dir: string): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * opencode runs `npm install @opencode-ai/plugin@<version>` in every config dir it uses (the
 * global one, each `.opencode` dir found from the project up to the worktree, `$HOME/.opencode`
 * when it exists, `OPENCODE_CONFIG_DIR`) and, when plugins are configured, waits for it. It skips
 * the install when the dir has a `node_modules/` and a `package-lock.json` whose root package
 * lists every dependency of `package.json` plus `@opencode-ai/plugin`. This writes exactly that.
 */
export async function seedOpencodeConfigDir(dir: string): Promise<void> {
  await mkdir(join(dir, "node_modules"), { recursive: true });
  const lock = {
    name: "opencode-config",
    lockfileVersion: 3,
    requires: true,
    packages: { "": { dependencies: { "@opencode-ai/plugin": opencodeVersion() } } },
  };
  await writeFile(join(dir, "package-lock.json"), `${JSON.stringify(lock, null, 2)}\n`);
}

/** Environment variables that keep opencode offline, quiet and away from the developer's setup. */
export const OPENCODE_QUIET_ENV: Readonly<Record<string, string>> = Object.freeze({
  OPENCODE_DISABLE_AUTOUPDATE: "1",
  OPENCODE_DISABLE_MODELS_FETCH: "1",
  OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
  OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
  OPENCODE_DISABLE_SHARE: "1",
  OPENCODE_DISABLE_CLAUDE_CODE: "1",
  OPENCODE_DISABLE_EXTERNAL_SKILLS: "1",
  OPENCODE_DISABLE_EMBEDDED_WEB_UI: "1",
  NO_COLOR: "1",
  TERM: "dumb",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_TERMINAL_PROMPT: "0",
});

/** Creates an isolated opencode installation in a temp dir. Call `cleanup()` when done. */
export async function createOpencodeHome(options: OpencodeHomeOptions = {}): Promise<OpencodeHome> {
  const root = await mkdtemp(join(options.baseDir ?? tmpdir(), options.prefix ?? "opencode-home-"));
  const dirs = {
    home: join(root, "home"),
    configHome: join(root, "config"),
    dataHome: join(root, "data"),
    cacheHome: join(root, "cache"),
    stateHome: join(root, "state"),
    tmpDir: join(root, "tmp"),
    projectDir: join(root, "project"),
    managedConfigDir: join(root, "managed"),
  };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  const configDir = join(dirs.configHome, "opencode");
  const dataDir = join(dirs.dataHome, "opencode");
  await mkdir(configDir, { recursive: true });
  await seedOpencodeConfigDir(configDir);

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: dirs.home,
    USERPROFILE: dirs.home,
    XDG_CONFIG_HOME: dirs.configHome,
    XDG_DATA_HOME: dirs.dataHome,
    XDG_CACHE_HOME: dirs.cacheHome,
    XDG_STATE_HOME: dirs.stateHome,
    TMPDIR: dirs.tmpDir,
    TMP: dirs.tmpDir,
    TEMP: dirs.tmpDir,
    OPENCODE_TEST_MANAGED_CONFIG_DIR: dirs.managedConfigDir,
    ...OPENCODE_QUIET_ENV,
    ...options.env,
  };

  if (options.git !== false) {
    const git = await runProcess("git", ["init", "-q", "."], {
      cwd: dirs.projectDir,
      env,
      timeoutMs: 15_000,
    }).catch((error: unknown) => ({ code: -1, stderr: String(error), stdout: "" }));
    if (git.code !== 0) {
      await rm(root, { recursive: true, force: true });
      throw new Error(
        `git init failed in ${dirs.projectDir} (pass git: false to skip): ${git.stderr}`,
      );
    }
  }

  const resolvePath = (path: string) => (isAbsolute(path) ? path : join(root, path));
  const writeJson = async (path: string, value: unknown) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
    return path;
  };

  const home: OpencodeHome = {
    root,
    ...dirs,
    configDir,
    dataDir,
    logDir: join(dataDir, "log"),
    authFile: join(dataDir, "auth.json"),
    env,
    async writeConfig(config, opts = {}) {
      const scope = opts.scope ?? "global";
      const written: string[] = [];
      if (scope === "global" || scope === "both") {
        written.push(await writeJson(join(configDir, "opencode.json"), config));
      }
      if (scope === "project" || scope === "both") {
        written.push(await writeJson(join(dirs.projectDir, "opencode.json"), config));
      }
      return written;
    },
    writeAuth: (entries) => writeJson(join(dataDir, "auth.json"), entries),
    async readAuth() {
      try {
        return JSON.parse(await readFile(join(dataDir, "auth.json"), "utf8")) as Record<
          string,
          unknown
        >;
      } catch {
        return {};
      }
    },
    async writeFile(path, content) {
      const target = resolvePath(path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
      return target;
    },
    async projectConfigDir() {
      const dir = join(dirs.projectDir, ".opencode");
      await seedOpencodeConfigDir(dir);
      return dir;
    },
    seedConfigDir: (dir) => seedOpencodeConfigDir(resolvePath(dir)),
    cleanup: () => rm(root, { recursive: true, force: true, maxRetries: 3 }),
  };
  if (options.config) await home.writeConfig(options.config, { scope: "global" });
  if (options.projectConfig) await home.writeConfig(options.projectConfig, { scope: "project" });
  return home;
}

// ---------------------------------------------------------------------------
// Running the CLI
// ---------------------------------------------------------------------------

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

export interface OpencodeRunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

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

interface RunProcessOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  stdin?: string;
}

/** Spawns a process in its own process group; kills the whole group on timeout and after exit. */
function runProcess(
  command: string,
  args: string[],
  options: RunProcessOptions,
): Promise<OpencodeRunResult> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    if (options.stdin !== undefined && child.stdin) {
      child.stdin.on("error", () => {});
      child.stdin.end(options.stdin);
    }
    let timedOut = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let hardKill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, "SIGTERM");
      hardKill = setTimeout(() => killGroup(child, "SIGKILL"), 3_000);
      hardKill.unref();
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      if (hardKill) clearTimeout(hardKill);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      // Leftover children (language servers, ripgrep…) would keep the pipes open.
      killGroup(child, "SIGKILL");
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (hardKill) clearTimeout(hardKill);
      resolvePromise({
        code: exit?.code ?? code,
        signal: exit?.signal ?? signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        durationMs: Math.round(performance.now() - started),
        timedOut,
      });
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
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

// ---------------------------------------------------------------------------
// opencode serve + a small HTTP client
// ---------------------------------------------------------------------------

/** Finds a free TCP port on 127.0.0.1 (binds port 0 on a throwaway server). */
export function getFreePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolvePromise(port) : reject(new Error("no port assigned"))));
    });
  });
}

export interface OpencodeServeOptions {
  /** Default: a free port (`opencode serve --port 0` would bind 4096). */
  port?: number;
  hostname?: string;
  /** How long to wait for the server to answer. Default 30 000 ms. */
  startTimeoutMs?: number;
  extraEnv?: Record<string, string>;
  /** More arguments after `serve --port … --hostname …`. */
  args?: string[];
}

export interface OpencodeServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  readonly client: OpencodeClient;
  stdout(): string;
  stderr(): string;
  /** SIGTERM to the process group, SIGKILL after 5 s; resolves when it has exited. */
  close(): Promise<void>;
}

/** Starts `opencode serve` in the isolated home and waits until `GET /global/health` answers. */
export async function startOpencodeServe(
  home: OpencodeHome,
  options: OpencodeServeOptions = {},
): Promise<OpencodeServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? (await getFreePort());
  const url = `http://${hostname}:${port}`;
  const child = spawn(
    opencodeBinPath(),
    ["serve", "--port", String(port), "--hostname", hostname, ...(options.args ?? [])],
    {
      cwd: home.projectDir,
      env: { ...home.env, ...options.extraEnv },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      windowsHide: true,
    },
  );
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
  const stdout = () => Buffer.concat(out).toString("utf8");
  const stderr = () => Buffer.concat(err).toString("utf8");
  let exited = false;
  const exitPromise = new Promise<void>((resolveExit) => {
    child.once("exit", () => {
      exited = true;
      resolveExit();
    });
    child.once("error", () => {
      exited = true;
      resolveExit();
    });
  });

  const close = async () => {
    if (!exited) {
      killGroup(child, "SIGTERM");
      const hard = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
      await exitPromise;
      clearTimeout(hard);
    }
    killGroup(child, "SIGKILL");
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      throw new Error(
        `opencode serve exited before answering.\nstdout: ${stdout()}\nstderr: ${stderr()}`,
      );
    }
    try {
      // A request that arrives while the server boots can hang: keep each probe short.
      const res = await fetch(`${url}/global/health`, { signal: AbortSignal.timeout(1_500) });
      if (res.ok) {
        await res.arrayBuffer();
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(
        `opencode serve did not answer on ${url} in time.\nstdout: ${stdout()}\nstderr: ${stderr()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  return { url, port, pid: child.pid, client: opencodeClient(url), stdout, stderr, close };
}

export interface OpencodeModelRef {
  providerID: string;
  modelID: string;
}

export interface OpencodeMessageResult {
  /** The assistant message (`info.error` is set when the provider call failed). */
  info: Record<string, unknown>;
  parts: Array<Record<string, unknown>>;
  /** Concatenated text of the `type: "text"` parts. */
  text: string;
  /** `info.error`, when present. */
  error?: unknown;
}

export interface OpencodeClient {
  readonly url: string;
  health(): Promise<{ healthy: boolean; version: string }>;
  /** `POST /session` → the session (`id` starts with `ses`). */
  createSession(body?: Record<string, unknown>): Promise<{ id: string } & Record<string, unknown>>;
  /** `POST /session/:id/message`: sends a text prompt and waits for the assistant's answer. */
  sendMessage(
    sessionId: string,
    message: { text: string; model?: OpencodeModelRef; agent?: string },
    options?: { timeoutMs?: number },
  ): Promise<OpencodeMessageResult>;
  /** Creates a session and sends one prompt. */
  prompt(
    text: string,
    model?: OpencodeModelRef,
    options?: { timeoutMs?: number },
  ): Promise<OpencodeMessageResult & { sessionId: string }>;
  /** Any other endpoint (see `GET /doc` for the OpenAPI document). */
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options?: { timeoutMs?: number },
  ): Promise<T>;
}

/** A minimal client for the `opencode serve` HTTP API. */
export function opencodeClient(url: string): OpencodeClient {
  const base = url.replace(/\/+$/, "");
  const request = async <T>(
    method: string,
    path: string,
    body?: unknown,
    options: { timeoutMs?: number } = {},
  ): Promise<T> => {
    const init: RequestInit = {
      method,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      headers: body === undefined ? {} : { "content-type": "application/json" },
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 2000)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  const client: OpencodeClient = {
    url: base,
    health: () => request("GET", "/global/health"),
    createSession: (body = {}) => request("POST", "/session", body),
    async sendMessage(sessionId, message, options = {}) {
      const body: Record<string, unknown> = { parts: [{ type: "text", text: message.text }] };
      if (message.model) body.model = message.model;
      if (message.agent) body.agent = message.agent;
      const result = await request<{
        info: Record<string, unknown>;
        parts: Array<Record<string, unknown>>;
      }>("POST", `/session/${encodeURIComponent(sessionId)}/message`, body, {
        timeoutMs: options.timeoutMs ?? 90_000,
      });
      const text = result.parts
        .filter((p) => p.type === "text" && typeof p.text === "string")
        .map((p) => p.text as string)
        .join("");
      const out: OpencodeMessageResult = { info: result.info, parts: result.parts, text };
      if (result.info.error !== undefined) out.error = result.info.error;
      return out;
    },
    async prompt(text, model, options = {}) {
      const session = await client.createSession();
      const message: { text: string; model?: OpencodeModelRef } = { text };
      if (model) message.model = model;
      const result = await client.sendMessage(session.id, message, options);
      return { ...result, sessionId: session.id };
    },
    request: (method, path, body, options) => request(method, path, body, options),
  };
  return client;
}

// ---------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------

/** Concatenates the log files under `$XDG_DATA_HOME/opencode/log/` (oldest first). */
export async function readOpencodeLog(home: OpencodeHome): Promise<string> {
  let names: string[];
  try {
    names = await readdir(home.logDir);
  } catch {
    return "";
  }
  const files = await Promise.all(
    names.map(async (name) => {
      const path = join(home.logDir, name);
      const info = await stat(path);
      return { path, mtime: info.mtimeMs, isFile: info.isFile() };
    }),
  );
  const sorted = files
    .filter((f) => f.isFile)
    .sort((a, b) => a.mtime - b.mtime || a.path.localeCompare(b.path));
  const contents = await Promise.all(sorted.map((f) => readFile(f.path, "utf8")));
  return contents.join("\n");
}

/** Parses the JSON lines of `opencode run --format json` (other lines are skipped). */
export function parseJsonl(stdout: string): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [];
  for (const line of stdout.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{")) continue;
    try {
      const value = JSON.parse(trimmed) as unknown;
      if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        events.push(value as Record<string, unknown>);
      }
    } catch {
      // not a JSON line (e.g. a plugin's console.log)
    }
  }
  return events;
}

/** The assistant text of `opencode run --format json` output: `part.text` of `type: "text"` lines. */
export function jsonlText(stdout: string): string {
  return parseJsonl(stdout)
    .filter((event) => event.type === "text")
    .map((event) => {
      const part = event.part as { text?: unknown } | undefined;
      return typeof part?.text === "string" ? part.text : "";
    })
    .join("");
}
