import { isRecord } from "../config/json.js";
import { type ConfigIssue, configIssue } from "../config/parse.js";
import { INTERACTIVE_FLOWS, type ProviderOAuth2Input } from "../config/schema.js";
import {
  findOAuth2PluginOptions,
  type OpencodeConfigLike,
  type RawOAuth2Block,
  rawOAuth2Blocks,
} from "./collect.js";

/**
 * What a remote party may set in a provider's oauth2 block: a `.well-known/opencode` manifest
 * (the gateway publishes one; `opencode-oauth2 login --well-known` and opencode itself read it)
 * or any other config layer that does not come from this machine.
 *
 * The rule: a public client and an interactive flow (the user logs in, at an IdP the remote
 * names) and nothing that makes this machine send what is its own: no secret, no grant that
 * runs without the user, no local file or environment variable.
 *
 * Every field of the one provider schema gets a verdict here, and the compiler insists on it,
 * so a field added to the schema is not publishable until someone decides it is.
 */
const NOT_PUBLISHABLE: Record<keyof ProviderOAuth2Input, string | undefined> = {
  issuer: undefined,
  clientId: undefined,
  clientSecret:
    "a manifest is public: never publish a secret. A public client needs none; a secret belongs in the user's own config",
  clientType: "a manifest publishes a public client only (the default without clientSecret)",
  clientAuthMethod: "only a confidential client has one; a manifest publishes a public client only",
  clientAssertion:
    "it names a local private key the client signs with; it belongs in the user's own config",
  interactiveClient: "a manifest publishes one public client: set clientId",
  scopes: undefined,
  authFlow: undefined, // its value is checked: see below
  headlessFlow:
    "a grant that runs without the user uses this machine's own credentials; it belongs in the user's own config",
  pkce: undefined,
  audience: undefined,
  resource: undefined,
  redirectPort: undefined,
  redirectPath: undefined,
  endpoints: undefined,
  subjectToken:
    "it names a local file or environment variable whose content is sent to the token endpoint; it belongs in the user's own config",
  authorizationParams: undefined,
  httpTimeoutMs: undefined,
  tokenExpirySkewMs: undefined,
  loginTimeoutMs: undefined,
  tls: "it names local files: a client certificate and key are this machine's own, and which CAs it trusts is the user's choice; it belongs in the user's own config",
  storage:
    "where this machine keeps its tokens is the user's choice; it belongs in the user's own config",
};

/** The oauth2 fields a remote party may set. */
export const PUBLISHABLE_OAUTH2_FIELDS: readonly string[] = Object.entries(NOT_PUBLISHABLE)
  .filter(([, why]) => why === undefined)
  .map(([field]) => field);

/** opencode replaces these in every config layer it reads, a manifest's too, by local values. */
const LOCAL_REFERENCE = /\{(env|file):[^}]*\}/;

export interface UnpublishableField {
  /** Inside the oauth2 block, e.g. `["subjectToken"]` or `["authorizationParams", "hint"]`. */
  path: string[];
  /** Why it may not be published, as an instruction. */
  message: string;
}

/** Every string in `value` that holds an opencode `{env:…}` or `{file:…}` reference. */
function localReferences(value: unknown, path: string[]): string[][] {
  if (typeof value === "string") return LOCAL_REFERENCE.test(value) ? [path] : [];
  if (Array.isArray(value))
    return value.flatMap((item, i) => localReferences(item, [...path, String(i)]));
  if (isRecord(value)) {
    return Object.entries(value).flatMap(([key, item]) => localReferences(item, [...path, key]));
  }
  return [];
}

/**
 * Every field of an oauth2 block that a remote party may not set, with why. Other problems
 * (a wrong type, a missing clientId) are the schema's to report.
 */
export function unpublishableFields(oauth2: unknown): UnpublishableField[] {
  if (!isRecord(oauth2)) return [];
  const found: UnpublishableField[] = [];
  for (const [key, value] of Object.entries(oauth2)) {
    if (!Object.hasOwn(NOT_PUBLISHABLE, key)) {
      found.push({
        path: [key],
        message: `"${key}" cannot be published (allowed: ${PUBLISHABLE_OAUTH2_FIELDS.join(", ")})`,
      });
      continue;
    }
    const why = NOT_PUBLISHABLE[key as keyof ProviderOAuth2Input];
    if (why) {
      found.push({ path: [key], message: why });
      continue;
    }
    if (key === "authFlow" && !(INTERACTIVE_FLOWS as readonly unknown[]).includes(value)) {
      found.push({
        path: [key],
        message: `users log in interactively: use ${INTERACTIVE_FLOWS.join(" or ")}`,
      });
      continue;
    }
    for (const path of localReferences(value, [key])) {
      found.push({
        path,
        message:
          "it holds an opencode {env:…} or {file:…} reference, which opencode replaces by a local value when it reads a manifest: remove it",
      });
    }
  }
  return found;
}

/** Where field `path` of `block` was written: the per-provider block when it has the field. */
export function fieldLocation(block: RawOAuth2Block, path: string[]): string {
  const [top = ""] = path;
  const inProvider = isRecord(block.providerPart) && Object.hasOwn(block.providerPart, top);
  return inProvider || !isRecord(block.pluginPart)
    ? `provider.${block.id}.options.oauth2.${path.join(".")}`
    : `plugin options providers.${block.id}.${path.join(".")}`;
}

/**
 * What a manifest's `config` sets that it may not, for every provider in it, as config issues
 * that name the field. What `opencode-oauth2 login --well-known` refuses.
 */
export function manifestIssues(config: OpencodeConfigLike & { plugin?: unknown }): ConfigIssue[] {
  const { blocks } = rawOAuth2Blocks(config, findOAuth2PluginOptions(config.plugin));
  return blocks.flatMap((block) =>
    unpublishableFields(block.merged).map(({ path, message }) =>
      configIssue({
        providerId: block.id,
        field: path.join("."),
        location: fieldLocation(block, path),
        expected: `a manifest may not set this: ${message}`,
        fix: "ask the manifest's operator to remove it, or configure the provider in your own opencode config instead",
      }),
    ),
  );
}
