import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { ParseError } from "jsonc-parser";
import { isRecord, type JsonObject } from "../config/json.js";

/**
 * opencode's config as this machine supplies it, read the way opencode (1.18) reads it: the CLI
 * manages the same providers opencode does, and the plugins can tell which settings come from
 * the user's own machine and which only from a remote layer (see remote-fields.ts).
 *
 * Sources, lowest precedence first (a later one wins):
 * 1. global: `$XDG_CONFIG_HOME/opencode/` (else `~/.config/opencode/`): config.json,
 *    opencode.json, opencode.jsonc;
 * 2. `$OPENCODE_CONFIG`, when set;
 * 3. project: opencode.jsonc, then opencode.json, each from the git root down to the current
 *    directory (only the current directory outside a git repository), unless
 *    `$OPENCODE_DISABLE_PROJECT_CONFIG` is set;
 * 4. opencode.json and opencode.jsonc in each `.opencode` directory of those directories, in
 *    `~/.opencode` and in `$OPENCODE_CONFIG_DIR`;
 * 5. `$OPENCODE_CONFIG_CONTENT`;
 * 6. the managed config directory (`/etc/opencode`, `/Library/Application Support/opencode`,
 *    `%ProgramData%\opencode`);
 * 7. `--config FILE` (the CLI's option).
 * Never read: remote layers (a `.well-known/opencode` manifest, an opencode console
 * organisation's config), by design, and macOS managed preferences.
 *
 * Files are JSONC (comments, trailing commas). `{env:NAME}` and `{file:path}` are substituted
 * as opencode does. Objects are merged deeply (so `provider.<id>` blocks from several files
 * combine); other values are replaced; `plugin` lists are concatenated, the later file's entries
 * first, so its opencode-oauth2 plugin options win.
 */

export interface ConfigFileProblem {
  path: string;
  /** What is wrong, e.g. "line 3, column 5: PropertyNameExpected". */
  message: string;
  fix: string;
}

export interface LocalConfig {
  /** Every source merged, as opencode would merge them. */
  config: JsonObject;
  /** The sources read, lowest precedence first (paths, or `$OPENCODE_CONFIG_CONTENT`). */
  sources: string[];
  /** Sources that exist (or were named) but could not be read. */
  problems: ConfigFileProblem[];
  /** Where global config lives, for messages. */
  globalDir: string;
}

export interface LocalConfigOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** `--config FILE`: read last, so it wins. */
  configFile?: string | undefined;
  platform?: NodeJS.Platform;
}

/** The name inline config is reported under. */
export const INLINE_CONFIG_SOURCE = "$OPENCODE_CONFIG_CONTENT";

export function globalConfigDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), ".config");
  return join(base, "opencode");
}

/** Where an administrator puts config every user gets (opencode's managed config dir). */
export function managedConfigDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  if (env.OPENCODE_TEST_MANAGED_CONFIG_DIR) return env.OPENCODE_TEST_MANAGED_CONFIG_DIR;
  if (platform === "darwin") return "/Library/Application Support/opencode";
  if (platform === "win32") return join(env.ProgramData || "C:\\ProgramData", "opencode");
  return "/etc/opencode";
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isDirOrFile(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The nearest directory at or above `cwd` holding `.git`, or undefined. */
async function gitRoot(cwd: string): Promise<string | undefined> {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (await isDirOrFile(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The project's directories, root first: git root down to `cwd`, or `cwd` alone. */
async function projectDirs(cwd: string): Promise<string[]> {
  const leaf = resolve(cwd);
  const root = await gitRoot(leaf);
  const dirs: string[] = [];
  for (let dir = leaf; ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (!root || dir === root || dirname(dir) === dir) break;
  }
  return dirs;
}

async function existing(paths: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) if (await exists(path)) found.push(path);
  return found;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

class SubstitutionError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** `{env:NAME}` and `{file:path}` as opencode substitutes them (not on `//` comment lines). */
async function substitute(text: string, baseDir: string, env: NodeJS.ProcessEnv): Promise<string> {
  const jsonEscape = (value: string) => JSON.stringify(value).slice(1, -1);
  const withEnv = text.replace(/\{env:([^}]+)\}/g, (_, name: string) =>
    jsonEscape(env[name] ?? ""),
  );
  const lines = withEnv.split("\n");
  for (const [index, line] of lines.entries()) {
    if (line.trimStart().startsWith("//") || !line.includes("{file:")) continue;
    let replaced = line;
    for (const match of line.matchAll(/\{file:([^}]+)\}/g)) {
      const reference = match[1] as string;
      const target = reference.startsWith("~/")
        ? join(env.HOME ?? homedir(), reference.slice(2))
        : isAbsolute(reference)
          ? reference
          : resolve(baseDir, reference);
      let content: string;
      try {
        content = (await readFile(target, "utf8")).trim();
      } catch (err) {
        throw new SubstitutionError(
          `{file:${reference}} could not be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
          `create ${target} or correct the reference`,
        );
      }
      replaced = replaced.replace(match[0], () => jsonEscape(content));
    }
    lines[index] = replaced;
  }
  return lines.join("\n");
}

/** One source's text → its object, or what is wrong with it. */
async function parseSource(
  path: string,
  text: string,
  baseDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ value: JsonObject } | { problem: ConfigFileProblem }> {
  try {
    text = await substitute(text, baseDir, env);
  } catch (err) {
    if (!(err instanceof SubstitutionError)) throw err;
    return { problem: { path, message: err.message, fix: err.fix } };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Comments, trailing commas or a mistake. The JSONC parser is loaded for such a file only:
    // it is on opencode's start path, and most config files are plain JSON.
    const { parse, printParseErrorCode } = await import("jsonc-parser");
    const errors: ParseError[] = [];
    value = parse(text, errors, { allowTrailingComma: true });
    const first = errors[0];
    if (first) {
      return {
        problem: {
          path,
          message: `${lineAndColumn(text, first.offset)}: ${printParseErrorCode(first.error)}`,
          fix: "correct the JSON (comments and trailing commas are allowed)",
        },
      };
    }
  }
  if (!isRecord(value)) {
    return {
      problem: {
        path,
        message: "is not a JSON object",
        fix: 'the file must hold one object, e.g. { "provider": { … } }',
      },
    };
  }
  return { value };
}

async function readConfigFile(
  path: string,
  env: NodeJS.ProcessEnv,
): Promise<{ value: JsonObject } | { problem: ConfigFileProblem }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    return {
      problem: {
        path,
        message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        fix: "check the path and its permissions",
      },
    };
  }
  return parseSource(path, text, dirname(path), env);
}

/** Deep merge, `over` wins; arrays are replaced, except `plugin` lists, which are concatenated. */
export function mergeConfig(base: JsonObject, over: JsonObject, top = true): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    if (top && key === "plugin" && Array.isArray(current) && Array.isArray(value)) {
      out[key] = [...value, ...current];
    } else if (isRecord(current) && isRecord(value)) {
      out[key] = mergeConfig(current, value, false);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Every local config file, in precedence order (optional ones only when they exist). */
async function configFiles(options: LocalConfigOptions): Promise<string[]> {
  const { env, cwd } = options;
  const globalDir = globalConfigDir(env);
  const names = (dir: string, list: string[]) => list.map((name) => join(dir, name));
  const files = await existing(
    names(globalDir, ["config.json", "opencode.json", "opencode.jsonc"]),
  );
  // Named explicitly: a missing one is reported, not skipped.
  if (env.OPENCODE_CONFIG) files.push(resolve(cwd, env.OPENCODE_CONFIG));
  const project = env.OPENCODE_DISABLE_PROJECT_CONFIG ? [] : await projectDirs(cwd);
  for (const name of ["opencode.jsonc", "opencode.json"]) {
    files.push(...(await existing(project.map((dir) => join(dir, name)))));
  }
  const packDirs = [
    ...project.map((dir) => join(dir, ".opencode")),
    join(env.HOME ?? homedir(), ".opencode"),
    ...(env.OPENCODE_CONFIG_DIR ? [resolve(cwd, env.OPENCODE_CONFIG_DIR)] : []),
  ];
  for (const dir of packDirs) {
    files.push(...(await existing(names(dir, ["opencode.json", "opencode.jsonc"]))));
  }
  return files;
}

/** Every local source, merged in opencode's order. Never throws for bad input: see `problems`. */
export async function loadLocalConfig(options: LocalConfigOptions): Promise<LocalConfig> {
  const { env, cwd } = options;
  const platform = options.platform ?? process.platform;
  const seen = new Set<string>();
  const sources: string[] = [];
  const problems: ConfigFileProblem[] = [];
  let merged: JsonObject = {};
  const take = (source: string, read: { value: JsonObject } | { problem: ConfigFileProblem }) => {
    if ("problem" in read) {
      problems.push(read.problem);
      return;
    }
    sources.push(source);
    merged = mergeConfig(merged, read.value);
  };
  const readFiles = async (files: string[]) => {
    for (const path of files) {
      if (seen.has(path)) continue;
      seen.add(path);
      take(path, await readConfigFile(path, env));
    }
  };

  await readFiles(await configFiles(options));
  const inline = env.OPENCODE_CONFIG_CONTENT;
  if (inline) take(INLINE_CONFIG_SOURCE, await parseSource(INLINE_CONFIG_SOURCE, inline, cwd, env));
  const managed = managedConfigDir(env, platform);
  await readFiles(
    await existing([join(managed, "opencode.json"), join(managed, "opencode.jsonc")]),
  );
  if (options.configFile) await readFiles([resolve(cwd, options.configFile)]);
  return { config: merged, sources, problems, globalDir: globalConfigDir(env) };
}
