import * as z from "zod/mini";
import { isRecord } from "../config/json.js";
import { parseWithMessages } from "../config/messages.js";
import { type ConfigIssue, describeIssue, parseProviderConfig } from "../config/parse.js";
import type { ProviderConfig } from "../config/schema.js";

/**
 * opencode's two places for a provider's oauth2 settings, read into {@link ProviderConfig}s:
 * `provider.<id>.options.oauth2` and the oauth2 plugin's `providers` option.
 */

/**
 * The oauth2 plugin's own options in opencode's `plugin` array: `providers` holds oauth2
 * settings per provider id; `provider.<id>.options.oauth2` wins field by field.
 */
export const PluginOptionsSchema = z.looseObject({
  providers: z.optional(
    z.record(z.string(), z.unknown(), { error: "expected an object keyed by provider id" }),
  ),
});

export interface CollectedProviders {
  providers: Record<string, ProviderConfig>;
  issues: ConfigIssue[];
}

/** The subset of an opencode config this module reads. */
export interface OpencodeConfigLike {
  provider?:
    | Record<string, { options?: Record<string, unknown> | undefined } | undefined>
    | undefined;
}

/** One provider's oauth2 settings as written, before parsing. */
export interface RawOAuth2Block {
  id: string;
  /** `provider.<id>.options.oauth2`, when set. */
  providerPart: unknown;
  /** `providers.<id>` of the plugin options, when set. */
  pluginPart: unknown;
  /** Both, merged field by field; the per-provider value wins. */
  merged: unknown;
  /** Where the user wrote it, for messages. */
  location: string;
}

/**
 * Every provider's oauth2 settings from both config shapes:
 * - per provider: `provider.<id>.options.oauth2` in opencode config;
 * - plugin options: `["@vymalo/opencode-oauth2", { "providers": { "<id>": { … } } }]`.
 * Both are merged field by field and the per-provider value wins. Plugin options that are not
 * an object of providers come back as issues.
 */
export function rawOAuth2Blocks(
  config: OpencodeConfigLike | undefined,
  pluginOptions?: unknown,
): { blocks: RawOAuth2Block[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  // Maps, not plain objects: a provider id such as "constructor" or "__proto__" is just an id.
  const fromPlugin = new Map<string, unknown>();
  const parsedOptions = PluginOptionsSchema.safeParse(pluginOptions ?? {}, parseWithMessages);
  if (parsedOptions.success) {
    for (const [id, raw] of Object.entries(parsedOptions.data.providers ?? {})) {
      fromPlugin.set(id, raw);
    }
  } else {
    for (const issue of parsedOptions.error.issues) {
      issues.push(describeIssue("*", "plugin options", issue));
    }
  }
  const fromProviders = new Map<string, unknown>();
  for (const [id, provider] of Object.entries(config?.provider ?? {})) {
    const oauth2 = provider?.options?.oauth2;
    if (oauth2 !== undefined) fromProviders.set(id, oauth2);
  }
  const blocks: RawOAuth2Block[] = [];
  for (const id of new Set([...fromPlugin.keys(), ...fromProviders.keys()])) {
    const pluginPart = fromPlugin.get(id);
    const providerPart = fromProviders.get(id);
    const merged =
      isRecord(pluginPart) && isRecord(providerPart)
        ? { ...pluginPart, ...providerPart }
        : (providerPart ?? pluginPart);
    const location =
      providerPart !== undefined
        ? `provider.${id}.options.oauth2`
        : `plugin options providers.${id}`;
    blocks.push({ id, providerPart, pluginPart, merged, location });
  }
  return { blocks, issues };
}

/**
 * Collects every managed provider from both config shapes (see {@link rawOAuth2Blocks}) and
 * parses each. This is the one place the two shapes become {@link ProviderConfig}.
 */
export function collectProviders(
  config: OpencodeConfigLike | undefined,
  pluginOptions?: unknown,
): CollectedProviders {
  const { blocks, issues } = rawOAuth2Blocks(config, pluginOptions);
  const providers = new Map<string, ProviderConfig>();
  for (const { id, merged, location } of blocks) {
    const parsed = parseProviderConfig(id, merged, location);
    if ("config" in parsed) providers.set(id, parsed.config);
    else issues.push(...parsed.issues);
  }
  // fromEntries defines own properties, so even "__proto__" stays an ordinary key.
  return { providers: Object.fromEntries(providers), issues };
}

/**
 * The options object of the opencode-oauth2 entry in opencode's `plugin` array
 * (`["@vymalo/opencode-oauth2", { … }]`, or a file:// path to it), so the models-info plugin and
 * the CLI read the same providers as the oauth2 plugin whatever the plugin order.
 */
export function findOAuth2PluginOptions(plugins: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(plugins)) return undefined;
  for (const entry of plugins) {
    if (!Array.isArray(entry) || typeof entry[0] !== "string") continue;
    if (/opencode-oauth2/.test(entry[0]) && isRecord(entry[1])) return entry[1];
  }
  return undefined;
}

/** {@link collectProviders} over a whole opencode config (plugin options found in it). */
export function collectFromOpencodeConfig(
  config: OpencodeConfigLike & { plugin?: unknown },
): CollectedProviders {
  return collectProviders(config, findOAuth2PluginOptions(config.plugin));
}
