import type { ChildProcess } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type IdpOptions,
  readOpenedUrls,
  startChild,
  startIdp,
  TestBrowser,
  type TestIdp,
  writeBrowserScript,
} from "@vymalo/testkit";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = join(PACKAGE, "dist/cli/main.js");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The tests run the built CLI: fail early and clearly when dist is missing or older than src. */
export function assertBuilt(): void {
  let built = 0;
  try {
    built = statSync(CLI).mtimeMs;
  } catch {
    // missing: reported below
  }
  if (built < newestMtime(join(PACKAGE, "src/cli"))) {
    throw new Error(
      "dist/cli is missing or older than src/cli: run `pnpm --filter @vymalo/opencode-oauth2 build` (turbo's test task does)",
    );
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI process still running: its output so far, and a way to wait for a line. */
export interface RunningCli {
  child: ChildProcess;
  output(): CliResult;
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<CliResult>;
}

export interface RunOptions {
  /** Added to the isolated environment. */
  env?: NodeJS.ProcessEnv;
  /** Default: the project directory. */
  cwd?: string;
}

export interface CliHarness {
  idp: TestIdp;
  browser: TestBrowser;
  root: string;
  /** The project directory the CLI runs in. */
  cwd: string;
  configHome: string;
  cacheHome: string;
  browserLog: string;
  env: NodeJS.ProcessEnv;
  /** The token file of a provider in the isolated cache. */
  tokenFile(providerId: string): string;
  /** Writes `$XDG_CONFIG_HOME/opencode/<name>` (an object as JSON, a string verbatim). */
  writeGlobalConfig(content: object | string, name?: string): Promise<string>;
  writeFile(relative: string, content: object | string): Promise<string>;
  start(args: string[], options?: RunOptions): RunningCli;
  run(args: string[], options?: RunOptions): Promise<CliResult>;
  /** The URLs the CLI asked $BROWSER to open. */
  openedUrls(): Promise<string[]>;
  close(): Promise<void>;
}

/** One provider block as opencode config holds it. */
export const providerConfig = (id: string, oauth2: Record<string, unknown>) => ({
  provider: { [id]: { options: { oauth2 } } },
});

export async function cliHarness(options: IdpOptions = {}): Promise<CliHarness> {
  assertBuilt();
  const idp = await startIdp(options);
  const root = await mkdtemp(join(tmpdir(), "oauth2-cli-"));
  const [cwd, home, configHome, cacheHome] = ["project", "home", "config", "cache"].map((d) =>
    join(root, d),
  ) as [string, string, string, string];
  for (const dir of [cwd, home, configHome, cacheHome]) await mkdir(dir, { recursive: true });
  const browserLog = join(root, "browser.log");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: configHome,
    XDG_CACHE_HOME: cacheHome,
    BROWSER: await writeBrowserScript(root, browserLog),
  };
  const children = new Set<ChildProcess>();

  const put = async (path: string, content: object | string) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
    return path;
  };

  const start = (args: string[], options: RunOptions = {}): RunningCli => {
    const waiters = new Set<() => void>();
    const wake = () => {
      for (const waiter of waiters) waiter();
    };
    const running = startChild(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? cwd,
      env: { ...env, ...options.env },
      onStderr: wake,
    });
    const { child } = running;
    children.add(child);
    const done = running.done.then(({ code, stdout, stderr }) => {
      children.delete(child);
      wake();
      return { code, stdout, stderr };
    });
    const stderr = () => running.output().stderr;
    return {
      child,
      output: () => ({ code: child.exitCode, ...running.output() }),
      done,
      waitForStderr: (pattern, timeoutMs = 10_000) =>
        new Promise((resolveWait, reject) => {
          const check = () => {
            const match = pattern.exec(stderr());
            if (match) {
              cleanup();
              resolveWait(match);
            } else if (child.exitCode !== null) {
              cleanup();
              reject(new Error(`CLI exited (${child.exitCode}) before ${pattern}:\n${stderr()}`));
            }
          };
          const timer = setTimeout(() => {
            cleanup();
            reject(new Error(`timed out waiting for ${pattern} on stderr:\n${stderr()}`));
          }, timeoutMs);
          const cleanup = () => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        }),
    };
  };

  return {
    idp,
    browser: new TestBrowser(),
    root,
    cwd,
    configHome,
    cacheHome,
    browserLog,
    env,
    tokenFile: (id) => join(cacheHome, "opencode-oauth2", "tokens", `${id}.json`),
    writeGlobalConfig: (content, name = "opencode.json") =>
      put(join(configHome, "opencode", name), content),
    writeFile: (relative, content) => put(resolve(root, relative), content),
    start,
    run: (args, options) => start(args, options).done,
    openedUrls: () => readOpenedUrls(browserLog),
    close: async () => {
      for (const child of children) child.kill("SIGKILL");
      await idp.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Polls until `probe` returns a value (bounded: no test waits longer than `timeoutMs`). */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8"));

/** Runs `login <provider>` with the browser flow; the test browser plays the user at the URL
 * $BROWSER got. */
export async function loginInBrowser(h: CliHarness, provider = "corp", extra: string[] = []) {
  const running = h.start(["login", provider, ...extra]);
  const url = await eventually(async () => (await h.openedUrls())[0]);
  await h.browser.authorize(url, { followCallback: true });
  return { url, result: await running.done };
}
