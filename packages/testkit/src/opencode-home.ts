import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { type OpencodeConfig, opencodeVersion } from "./opencode-binary.js";
import { runProcess } from "./process-group.js";

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
