import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import {
  type CollectedProviders,
  collectFromOpencodeConfig,
  type OpencodeConfigLike,
} from "@vymalo/oauth2-core";
import { type ParseError, parse, printParseErrorCode } from "jsonc-parser";

/**
 * Reads the opencode config the way opencode does, so the CLI manages the same providers.
 * Files, lowest precedence first (a later file wins):
 * 1. global: `$XDG_CONFIG_HOME/opencode/` (else `~/.config/opencode/`): opencode.json, opencode.jsonc;
 * 2. `$OPENCODE_CONFIG`, when set;
 * 3. project: opencode.jsonc, then opencode.json, each from the git root down to the current
 *    directory (only the current directory outside a git repository);
 * 4. `--config FILE`.
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

export interface LoadedConfig extends CollectedProviders {
  /** The files read, lowest precedence first. */
  sources: string[];
  /** Files that exist (or were named) but could not be read. */
  problems: ConfigFileProblem[];
  /** Where global config lives, for messages. */
  globalDir: string;
}

export interface LoadOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** `--config FILE` */
  configFile?: string | undefined;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function globalConfigDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), ".config");
  return join(base, "opencode");
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

/** Project config files in opencode's order: every opencode.jsonc root→cwd, then every opencode.json. */
async function projectFiles(cwd: string): Promise<string[]> {
  const leaf = resolve(cwd);
  const root = await gitRoot(leaf);
  const dirs: string[] = [];
  for (let dir = leaf; ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (!root || dir === root || dirname(dir) === dir) break;
  }
  const files: string[] = [];
  for (const name of ["opencode.jsonc", "opencode.json"]) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (await exists(path)) files.push(path);
    }
  }
  return files;
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
async function substitute(text: string, path: string, env: NodeJS.ProcessEnv): Promise<string> {
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
          : resolve(dirname(path), reference);
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

async function readConfigFile(
  path: string,
  env: NodeJS.ProcessEnv,
): Promise<{ value: Json } | { problem: ConfigFileProblem }> {
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
  try {
    text = await substitute(text, path, env);
  } catch (err) {
    if (!(err instanceof SubstitutionError)) throw err;
    return { problem: { path, message: err.message, fix: err.fix } };
  }
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true });
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
  if (!isObject(value)) {
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

/** Deep merge, `over` wins; arrays are replaced, except `plugin` lists, which are concatenated. */
export function mergeConfig(base: Json, over: Json, top = true): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    if (top && key === "plugin" && Array.isArray(current) && Array.isArray(value)) {
      out[key] = [...value, ...current];
    } else if (isObject(current) && isObject(value)) {
      out[key] = mergeConfig(current, value, false);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Every config file in precedence order, merged, and the managed providers in it. */
export async function loadConfig(options: LoadOptions): Promise<LoadedConfig> {
  const { env, cwd } = options;
  const globalDir = globalConfigDir(env);
  const candidates: { path: string; required: boolean }[] = [];
  for (const name of ["opencode.json", "opencode.jsonc"]) {
    const path = join(globalDir, name);
    if (await exists(path)) candidates.push({ path, required: false });
  }
  if (env.OPENCODE_CONFIG)
    candidates.push({ path: resolve(cwd, env.OPENCODE_CONFIG), required: true });
  for (const path of await projectFiles(cwd)) candidates.push({ path, required: false });
  if (options.configFile)
    candidates.push({ path: resolve(cwd, options.configFile), required: true });

  const seen = new Set<string>();
  const sources: string[] = [];
  const problems: ConfigFileProblem[] = [];
  let merged: Json = {};
  for (const { path } of candidates) {
    if (seen.has(path)) continue;
    seen.add(path);
    const read = await readConfigFile(path, env);
    if ("problem" in read) {
      problems.push(read.problem);
      continue;
    }
    sources.push(path);
    merged = mergeConfig(merged, read.value);
  }
  const collected = collectFromOpencodeConfig(merged as OpencodeConfigLike & { plugin?: unknown });
  return { ...collected, sources, problems, globalDir };
}
