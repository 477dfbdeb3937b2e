import { readFile } from "node:fs/promises";
import { isRecord, type JsonObject, splitList } from "@vymalo/oauth2-core";
import type { GatewayConfig } from "./config.js";
import { GatewayConfigError, parseConfig } from "./config-parse.js";

/**
 * Reads the JSON config file and applies environment overrides on top of it. Secrets (the
 * upstream key, the introspection secret) and per-deployment values (URLs, port) are better set
 * in the environment than written into a file.
 */

type Parse = (raw: string) => unknown;

const asString: Parse = (raw) => raw;
const asList: Parse = splitList;
/** Digits become a number (a port, a hop count); anything else stays a string. */
const asInteger: Parse = (raw) => (/^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw);

/** Every override: env var → dotted config path. The one list docs/gateway.md documents. */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: string; parse: Parse }> = [
  { env: "OPENCODE_GATEWAY_PUBLIC_URL", path: "publicUrl", parse: asString },
  { env: "OPENCODE_GATEWAY_ISSUER", path: "issuer", parse: asString },
  { env: "OPENCODE_GATEWAY_JWKS_URI", path: "jwksUri", parse: asString },
  { env: "OPENCODE_GATEWAY_AUDIENCES", path: "audiences", parse: asList },
  { env: "OPENCODE_GATEWAY_CLIENTS", path: "clients", parse: asList },
  { env: "OPENCODE_GATEWAY_UPSTREAM_URL", path: "upstream.baseURL", parse: asString },
  { env: "OPENCODE_GATEWAY_UPSTREAM_API_KEY", path: "upstream.apiKey", parse: asString },
  {
    env: "OPENCODE_GATEWAY_INTROSPECTION_CLIENT_SECRET",
    path: "introspection.clientSecret",
    parse: asString,
  },
  { env: "OPENCODE_GATEWAY_HOST", path: "listen.host", parse: asString },
  { env: "PORT", path: "listen.port", parse: asInteger },
  { env: "OPENCODE_GATEWAY_PORT", path: "listen.port", parse: asInteger },
  { env: "OPENCODE_GATEWAY_TRUST_PROXY", path: "listen.trustProxy", parse: asInteger },
  { env: "OPENCODE_GATEWAY_QUOTA_REDIS", path: "quota.redis", parse: asString },
];

/**
 * Returns a copy of `raw` with the overrides set in `env` applied (later entries win, so
 * OPENCODE_GATEWAY_PORT beats PORT), and which env var set which path. Setting
 * OPENCODE_GATEWAY_UPSTREAM_URL replaces a `demo: true` upstream.
 */
export function applyEnvOverrides(
  raw: unknown,
  env: NodeJS.ProcessEnv,
): { config: unknown; envSources: Map<string, string> } {
  const envSources = new Map<string, string>();
  if (!isRecord(raw)) return { config: raw, envSources };
  const config: JsonObject = structuredClone(raw);
  for (const { env: name, path, parse } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value.trim() === "") continue;
    const keys = path.split(".");
    const last = keys.pop() as string;
    let node = config;
    for (const key of keys) {
      if (!isRecord(node[key])) node[key] = {};
      node = node[key] as JsonObject;
    }
    node[last] = parse(value.trim());
    if (path === "upstream.baseURL") delete node.demo;
    envSources.set(path, name);
  }
  return { config, envSources };
}

/** Reads, overrides and validates. Throws {@link GatewayConfigError} with the file's name. */
export async function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<GatewayConfig> {
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new GatewayConfigError(
        [
          {
            field: "",
            location: "(config)",
            expected: `cannot read ${file}: ${(error as Error).message}`,
            fix: "",
          },
        ],
        file,
      );
    }
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new GatewayConfigError(
        [
          {
            field: "",
            location: "(config)",
            expected: `not valid JSON: ${(error as Error).message}`,
            fix: "",
          },
        ],
        file,
      );
    }
  }
  const { config, envSources } = applyEnvOverrides(raw, env);
  return parseConfig(config, { source: file ?? "environment", envSources });
}
