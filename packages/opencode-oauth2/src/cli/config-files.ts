import {
  type CollectedProviders,
  type ConfigFileProblem,
  collectFromOpencodeConfig,
  type LocalConfigOptions,
  loadLocalConfig,
  type OpencodeConfigLike,
} from "@vymalo/oauth2-core";

/**
 * The opencode config the CLI manages: every local source, read and merged the way opencode
 * does it (the core's loadLocalConfig: global, $OPENCODE_CONFIG, project files, `.opencode`
 * dirs, $OPENCODE_CONFIG_CONTENT, the managed config dir), then `--config FILE`, which wins.
 */

export type { ConfigFileProblem };

export interface LoadedConfig extends CollectedProviders {
  /** The sources read, lowest precedence first. */
  sources: string[];
  /** Sources that exist (or were named) but could not be read. */
  problems: ConfigFileProblem[];
  /** Where global config lives, for messages. */
  globalDir: string;
  /** Every source merged: what the providers were parsed from (the warm token path's key). */
  localConfig: Record<string, unknown>;
}

export type LoadOptions = LocalConfigOptions;

/** Every config source in precedence order, merged, and the managed providers in it. */
export async function loadConfig(options: LoadOptions): Promise<LoadedConfig> {
  const local = await loadLocalConfig(options);
  const collected = collectFromOpencodeConfig(
    local.config as OpencodeConfigLike & { plugin?: unknown },
  );
  return {
    ...collected,
    sources: local.sources,
    problems: local.problems,
    globalDir: local.globalDir,
    localConfig: local.config,
  };
}
