import { join } from "node:path";
import type { Hooks, Plugin } from "@opencode-ai/plugin";
import {
  createLogger,
  defaultCacheDir,
  type LocalConfigSource,
  type LogLevel,
  type LogSink,
  opencodeSink,
  platformFetch,
  pluginLogLevel,
  TokenEngine,
} from "@vymalo/oauth2-core";
import { type ApplyDeps, applyModelsInfo, type ConfigLike } from "./apply.js";
import { ModelsInfoCache } from "./cache.js";
import { MODELS_INFO_EVENTS, type ModelsInfoLogger, SERVICE } from "./events.js";
import type { FetchLike } from "./fetch.js";

/** What varies, injectable for tests; every field has a production default. */
export interface ModelsInfoPluginDeps {
  /** HTTP client for the models endpoints. Default: global fetch. */
  fetch?: FetchLike;
  /** Clock of the models cache (TTL). Default: Date.now. */
  now?: () => number;
  /** The shared cache dir: tokens in `tokens/`, documents in `models-info/`. Default: defaultCacheDir(). */
  cacheDir?: string;
  /** Where log records go. Default: opencode's `client.app.log`. */
  sink?: LogSink;
  /** Lowest level sent to the sink. Default: pluginLogLevel() (`warn` unless configured). */
  logLevel?: LogLevel;
  /** What this machine's own config says. Default: every local opencode config source. */
  localConfig?: LocalConfigSource;
  /** The token engine. Default: one over `cacheDir`, logging to the same sink. */
  engine?: (logger: ModelsInfoLogger, cacheDir: string) => TokenEngine;
}

/**
 * Builds the models-info plugin. Hooks only: `config` loads each provider's models document and
 * merges it into the config (see applyModelsInfo). Reads the oauth2 providers from the config it
 * is given, so it works wherever it stands in the `plugin` array.
 */
export function createModelsInfoPlugin(deps: ModelsInfoPluginDeps = {}): Plugin {
  return async (input) => {
    const logger = createLogger({
      sink: deps.sink ?? opencodeSink(input.client, SERVICE),
      level: deps.logLevel ?? pluginLogLevel(undefined),
      events: MODELS_INFO_EVENTS,
    });
    const cacheDir = deps.cacheDir ?? defaultCacheDir();
    const now = deps.now ?? Date.now;
    const applyDeps: ApplyDeps = {
      engine: deps.engine?.(logger, cacheDir) ?? new TokenEngine({ cacheDir, logger }),
      cache: new ModelsInfoCache({ dir: join(cacheDir, "models-info"), now, logger }),
      fetch: deps.fetch ?? platformFetch,
      now,
      logger,
      localConfig: deps.localConfig,
    };
    const hooks: Hooks = {
      config: async (config) => {
        await applyModelsInfo(config as ConfigLike, applyDeps);
      },
    };
    return hooks;
  };
}

/** The plugin as opencode loads it. */
export const ModelsInfoPlugin: Plugin = createModelsInfoPlugin();
