import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isRecord, type JsonObject } from "../config/json.js";
import { type LocalConfigOptions, loadLocalConfig } from "../opencode/local-sources.js";
import { writeFileAtomic } from "./atomic-file.js";
import { type BindingFields, bindingKey } from "./binding-key.js";
import { defaultCacheDir, fileSafe } from "./paths.js";

/**
 * The warm path of `opencode-oauth2 token`, which other tools call once per request: a fresh
 * token served without parsing the config with the schema (zod and the schemas are most of what
 * a call costs). It is taken only when the local config is exactly the one a full run last
 * validated for this provider: that run leaves a stamp beside the token file (a hash of the
 * merged config, the bindings the provider's clients mint and its expiry skew; never a token).
 * A token bound otherwise, stale, in the keyring, or any doubt at all, and the caller takes the
 * full path, which validates the config and renews the token.
 */

export interface WarmRequest extends LocalConfigOptions {
  providerId: string;
}

export interface WarmToken {
  providerId: string;
  accessToken: string;
  tokenType: string;
  expiresAt?: number | undefined;
}

/** What a full run found valid for one exact config. */
interface WarmStamp {
  version: 1;
  configKey: string;
  bindings: string[];
  skewMs: number;
}

/** One provider's merged local config as one hash: equal hashes, same parse result. */
export function warmConfigKey(providerId: string, config: JsonObject): string {
  return createHash("sha256")
    .update(JSON.stringify([providerId, config]))
    .digest("base64url");
}

function pathsFor(env: NodeJS.ProcessEnv, providerId: string) {
  const dir = join(defaultCacheDir(env), "tokens");
  const name = fileSafe(providerId);
  return { token: join(dir, `${name}.json`), stamp: join(dir, `${name}.warm`) };
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** The provider's token from the cache, when the warm path may serve it; else undefined. */
export async function warmToken(
  request: WarmRequest,
  now: number = Date.now(),
): Promise<WarmToken | undefined> {
  const local = await loadLocalConfig(request);
  if (local.problems.length > 0) return undefined;
  const paths = pathsFor(request.env, request.providerId);
  const stamp = await readJson(paths.stamp);
  if (
    !isRecord(stamp) ||
    stamp.version !== 1 ||
    stamp.configKey !== warmConfigKey(request.providerId, local.config) ||
    !Array.isArray(stamp.bindings) ||
    typeof stamp.skewMs !== "number"
  ) {
    return undefined;
  }
  const token = await readJson(paths.token);
  // A token in the keyring (the file names its entry) goes the full way.
  if (!isRecord(token) || token.providerId !== request.providerId || "keyring" in token) {
    return undefined;
  }
  const { accessToken, tokenType = "Bearer", expiresAt, binding } = token;
  if (typeof accessToken !== "string" || accessToken === "" || typeof tokenType !== "string") {
    return undefined;
  }
  if (
    expiresAt !== undefined &&
    (typeof expiresAt !== "number" || expiresAt - stamp.skewMs <= now)
  ) {
    return undefined;
  }
  let key: string;
  try {
    key = bindingKey(binding as BindingFields);
  } catch {
    return undefined;
  }
  if (!stamp.bindings.includes(key)) return undefined;
  return { providerId: request.providerId, accessToken, tokenType, expiresAt };
}

/**
 * After a full run validated `config` and served the provider's token: lets the next call with
 * the same config take the warm path. Best effort: a stamp that cannot be written only costs
 * the next call the full path.
 */
export async function rememberWarm(
  env: NodeJS.ProcessEnv,
  providerId: string,
  config: JsonObject,
  facts: { bindings: BindingFields[]; skewMs: number },
): Promise<void> {
  const stamp: WarmStamp = {
    version: 1,
    configKey: warmConfigKey(providerId, config),
    bindings: facts.bindings.map(bindingKey),
    skewMs: facts.skewMs,
  };
  await writeFileAtomic(pathsFor(env, providerId).stamp, `${JSON.stringify(stamp)}\n`).catch(
    () => {},
  );
}
