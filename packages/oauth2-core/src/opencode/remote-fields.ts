import { isRecord } from "../config/json.js";
import { type ConfigIssue, configIssue } from "../config/parse.js";
import { HEADLESS_FLOWS } from "../config/schema.js";
import { memoizeUntilRejected, processWideMap } from "../shared-promises.js";
import {
  type CollectedProviders,
  collectProviders,
  findOAuth2PluginOptions,
  type OpencodeConfigLike,
  type RawOAuth2Block,
  rawOAuth2Blocks,
} from "./collect.js";
import { loadLocalConfig } from "./local-sources.js";
import { fieldLocation, unpublishableFields } from "./publishable.js";

/**
 * The config opencode hands a plugin is every layer merged, and the lowest layer may be remote:
 * a `.well-known/opencode` manifest, fetched again at every start, or an opencode console
 * organisation's config. A plugin cannot see the layers, but it can read the local ones (see
 * local-sources.ts). So, per provider:
 *
 * 1. every field of the merged oauth2 block that no local source sets must be publishable
 *    (publishable.ts): a remote layer never makes this machine run a grant without the user,
 *    read a local file or environment variable, or use a secret;
 * 2. when the block uses something of this machine's own (a client secret, a subject token, a
 *    grant without the user) or its issuer is set locally (so its cached tokens are the user's
 *    own), the fields that decide where those go (`issuer`, every `endpoints.*`, and the
 *    provider's `baseURL`, where the token is sent) must be set locally too.
 *
 * A provider that breaks either rule is not managed; each field is reported with its fix.
 * What cannot be seen here: opencode replaces `{env:…}` and `{file:…}` in a manifest by local
 * values before any plugin runs, so such a value in a publishable field looks like any other.
 */

type Config = OpencodeConfigLike & { plugin?: unknown };

function valueAt(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isRecord(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * The part of `merged` that none of `local` sets: objects are split field by field, anything
 * else (a string, an array) is local or not as a whole.
 */
function remotePart(merged: Record<string, unknown>, local: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(merged)) {
    const mine = local.map((block) => (isRecord(block) ? block[key] : undefined));
    if (mine.every((v) => v === undefined)) {
      out[key] = value;
    } else if (isRecord(value) && mine.every((v) => v === undefined || isRecord(v))) {
      const part = remotePart(value, mine);
      if (Object.keys(part).length) out[key] = part;
    }
  }
  return out;
}

/** What of this machine's own the block would use, or undefined when nothing. */
function localAssets(block: Record<string, unknown>, issuerIsLocal: boolean): string | undefined {
  const uses: string[] = [];
  const client = isRecord(block.interactiveClient) ? block.interactiveClient : {};
  if (block.clientSecret !== undefined || client.clientSecret !== undefined) {
    uses.push("a client secret");
  }
  if (block.clientAssertion !== undefined || client.clientAssertion !== undefined) {
    uses.push("a private key");
  }
  if (block.subjectToken !== undefined) uses.push("a subject token");
  const headless = HEADLESS_FLOWS as readonly unknown[];
  if (headless.includes(block.authFlow) || block.headlessFlow !== undefined) {
    uses.push("a grant that runs without the user");
  }
  if (issuerIsLocal) uses.push("tokens of an issuer set in your own config");
  return uses.length ? uses.join(", ") : undefined;
}

function issuesOf(
  block: RawOAuth2Block,
  local: RawOAuth2Block | undefined,
  baseURL: { merged: unknown; local: unknown },
): ConfigIssue[] {
  if (!isRecord(block.merged)) return []; // the schema reports it
  const remote = remotePart(block.merged, [local?.providerPart, local?.pluginPart]);
  const issue = (field: string, location: string, expected: string) =>
    configIssue({
      providerId: block.id,
      field,
      location,
      expected,
      fix: `set it in your own opencode config (${location}), or have it removed from the remote config (a .well-known/opencode manifest: ask its operator, or \`opencode auth logout\` to drop it)`,
    });
  const found = unpublishableFields(remote).map(({ path, message }) =>
    issue(
      path.join("."),
      fieldLocation(block, path),
      `only a remote config layer sets this, and a remote layer may not: ${message}`,
    ),
  );
  const assets = localAssets(block.merged, !Object.hasOwn(remote, "issuer"));
  if (!assets) return found;
  const where = `this provider uses ${assets}, so where they are sent must come from your own config, not a remote layer`;
  const destinations = [
    ["issuer"],
    ...Object.keys(isRecord(remote.endpoints) ? remote.endpoints : {}).map((k) => ["endpoints", k]),
  ].filter((path) => valueAt(remote, path) !== undefined);
  for (const path of destinations) {
    if (found.some((f) => f.field === path.join("."))) continue;
    found.push(issue(path.join("."), fieldLocation(block, path), where));
  }
  if (baseURL.merged !== undefined && baseURL.local === undefined) {
    found.push(issue("baseURL", `provider.${block.id}.options.baseURL`, where));
  }
  return found;
}

/**
 * The plugin options a local source gives: the entry that carries exactly the options the plugin
 * was handed (whatever its spec is called), else the opencode-oauth2 entry.
 */
function localPluginOptions(plugins: unknown, handed: unknown): unknown {
  const same = JSON.stringify(handed ?? null);
  if (Array.isArray(plugins)) {
    for (const entry of plugins) {
      if (Array.isArray(entry) && JSON.stringify(entry[1] ?? null) === same) return entry[1];
    }
  }
  return findOAuth2PluginOptions(plugins);
}

/**
 * The fields of each managed provider that only a remote config layer sets and that it may not
 * (see the rules above). `config` and `pluginOptions` are what opencode hands the plugin;
 * `local` is every local source merged ({@link loadLocalConfig}).
 */
export function remoteFieldIssues(input: {
  config: Config;
  pluginOptions?: unknown;
  local: Config;
}): ConfigIssue[] {
  const { config, local } = input;
  const localBlocks = new Map(
    rawOAuth2Blocks(local, localPluginOptions(local.plugin, input.pluginOptions)).blocks.map(
      (b) => [b.id, b],
    ),
  );
  return rawOAuth2Blocks(config, input.pluginOptions).blocks.flatMap((block) =>
    issuesOf(block, localBlocks.get(block.id), {
      merged: valueAt(config.provider, [block.id, "options", "baseURL"]),
      local: valueAt(local.provider, [block.id, "options", "baseURL"]),
    }),
  );
}

/**
 * Where a plugin learns what this machine's own config says: by default every local source
 * ({@link loadLocalConfig}); a test or an embedder that hands the hooks a config of its own
 * passes `(config) => config`.
 */
export type LocalConfigSource = (handed: Config) => Promise<Config> | Config;

/**
 * The local config as read once per process: opencode runs the oauth2 and the models-info
 * plugins' config hooks one after the other in one process, and both need it at start. The first
 * read is shared (kept on globalThis, so two copies of this module share it too); a different
 * working directory or config environment reads again.
 */
export function sharedLocalConfig(cwd: string, env: NodeJS.ProcessEnv): Promise<Config> {
  const reads = processWideMap<Promise<Config>>("@vymalo/oauth2-core:local-config-reads@1");
  const relevant = Object.entries(env)
    .filter(([name]) => /^(OPENCODE_|XDG_)|^(HOME|APPDATA|PROGRAMDATA|USERPROFILE)$/i.test(name))
    .sort(([a], [b]) => a.localeCompare(b));
  const key = JSON.stringify([cwd, relevant]);
  return memoizeUntilRejected(reads, key, () =>
    loadLocalConfig({ cwd, env }).then((local) => local.config as Config),
  );
}

/**
 * The providers a plugin may manage: {@link collectProviders} over what opencode hands it,
 * without any provider a remote layer set something for that it may not (each such field comes
 * back as an issue with its fix). Whatever of the local config cannot be read counts as
 * remote, so a failure here refuses rather than trusts.
 */
export async function collectManagedProviders(
  config: Config,
  pluginOptions: unknown,
  options: { localConfig?: LocalConfigSource | undefined; cwd?: string | undefined } = {},
): Promise<CollectedProviders> {
  const collected = collectProviders(config, pluginOptions);
  if (Object.keys(collected.providers).length === 0) return collected;
  const read: LocalConfigSource =
    options.localConfig ?? (() => sharedLocalConfig(options.cwd ?? process.cwd(), process.env));
  let local: Config = {};
  try {
    local = await read(config);
  } catch {
    // Nothing local could be read: every field counts as remote.
  }
  const refused = remoteFieldIssues({ config, pluginOptions, local });
  const providers = { ...collected.providers };
  for (const issue of refused) delete providers[issue.providerId];
  return { providers, issues: [...collected.issues, ...refused] };
}
