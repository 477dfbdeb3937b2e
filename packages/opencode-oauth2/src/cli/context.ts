import {
  type CoreEvent,
  createLogger,
  type Logger,
  type ProviderConfig,
  stderrSink,
  TokenEngine,
} from "@vymalo/oauth2-core";
import { type LoadedConfig, loadConfig } from "./config-files.js";
import { CliFailure, UsageError } from "./errors.js";
import type { Output } from "./output.js";

/** What every command gets: output, environment, the config and the token engine (both lazy). */
export interface CliContext {
  out: Output;
  env: NodeJS.ProcessEnv;
  cwd: string;
  verbose: boolean;
  now(): number;
  config(): Promise<LoadedConfig>;
  engine(): TokenEngine;
  logger: Logger<CoreEvent>;
}

export interface ContextOptions {
  out: Output;
  env: NodeJS.ProcessEnv;
  cwd: string;
  verbose: boolean;
  configFile?: string | undefined;
}

export function createContext(options: ContextOptions): CliContext {
  // Engine log records (never tokens: the logger drops secret fields) only with --verbose.
  const logger = createLogger(options.verbose ? { sink: stderrSink, level: "debug" } : {});
  let config: Promise<LoadedConfig> | undefined;
  let engine: TokenEngine | undefined;
  return {
    out: options.out,
    env: options.env,
    cwd: options.cwd,
    verbose: options.verbose,
    logger,
    now: Date.now,
    config: () => {
      config ??= loadConfig({ cwd: options.cwd, env: options.env, configFile: options.configFile });
      return config;
    },
    engine: () => {
      engine ??= new TokenEngine({ logger, env: options.env });
      return engine;
    },
  };
}

/** Config files that could not be read, as one failure (exit 1). */
export function failOnConfigProblems(config: LoadedConfig): void {
  if (config.problems.length === 0) return;
  const lines = config.problems.map((p) => `  ${p.path}: ${p.message}. Fix: ${p.fix}.`);
  throw new CliFailure(`opencode config could not be read:\n${lines.join("\n")}`);
}

/** Where the CLI looked, for "not found" messages. */
function describeSources(config: LoadedConfig): string {
  return config.sources.length
    ? `read: ${config.sources.join(", ")}`
    : `no opencode config found (global: ${config.globalDir}, project: opencode.json[c] from the git root to here, $OPENCODE_CONFIG, --config FILE)`;
}

/**
 * The managed provider `id`, or a failure that says why not: an invalid oauth2 block (exit 1,
 * with every issue and its fix), or no such provider (usage, exit 64, listing the managed ones).
 */
export async function requireProvider(ctx: CliContext, id: string): Promise<ProviderConfig> {
  const config = await ctx.config();
  failOnConfigProblems(config);
  const provider = config.providers[id];
  if (provider) return provider;
  const issues = config.issues.filter((i) => i.providerId === id || i.providerId === "*");
  if (issues.some((i) => i.providerId === id)) {
    throw new CliFailure(
      `${issues.map((i) => i.message).join("\n")}\nThen check the setup: opencode-oauth2 doctor ${id}`,
    );
  }
  const known = Object.keys(config.providers);
  throw new UsageError(
    `no provider "${id}" with an oauth2 block (${describeSources(config)}). ${
      known.length
        ? `Managed providers: ${known.join(", ")}.`
        : "Add provider.<id>.options.oauth2 to your opencode config."
    }`,
  );
}
