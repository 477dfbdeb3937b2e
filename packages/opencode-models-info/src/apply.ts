import {
  type CollectedProviders,
  collectManagedProviders,
  findOAuth2PluginOptions,
  type LocalConfigSource,
  type Logger,
  type TokenEngine,
} from "@vymalo/oauth2-core";
import { engineBearer, unavailableBearer } from "./bearer.js";
import type { ModelsInfoCache, Resource } from "./cache.js";
import { isModelsInfoError } from "./errors.js";
import { type BearerSource, deadline, type FetchLike, fetchJson } from "./fetch.js";
import { type LoadResult, type LoadSource, loadResource } from "./load.js";
import { type ModelPatch, toOpencodeModel } from "./map.js";
import { type MergeResult, mergeProviderModels } from "./merge.js";
import {
  DEFAULT_TIMEOUT_MS,
  type ModelsInfoOptions,
  parseModelsInfoOptions,
  resolveUrl,
  sendsToken,
} from "./options.js";
import {
  CachedDocumentSchema,
  CachedModelListSchema,
  type ModelEntry,
  type Parsed,
  parseModelList,
  parseModelsDocument,
} from "./schema.js";

/** The part of an opencode config this module reads and writes. */
export interface ProviderEntryLike {
  options?: Record<string, unknown> | undefined;
  models?: Record<string, unknown> | undefined;
}

export interface ConfigLike {
  provider?: Record<string, ProviderEntryLike | undefined> | undefined;
  plugin?: unknown;
}

export interface ApplyDeps {
  engine: TokenEngine;
  cache: ModelsInfoCache;
  fetch: FetchLike;
  now: () => number;
  logger: Logger<string>;
  /** What this machine's own config says. Default: every local opencode config source. */
  localConfig?: LocalConfigSource | undefined;
}

export interface ProviderReport {
  document: LoadSource;
  /** How the model list was had, when the provider lists no models. */
  discovery?: LoadSource | undefined;
  merge?: MergeResult | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const hasOwnOptions = (meta: unknown): meta is Record<string, unknown> =>
  isRecord(meta) && Object.keys(meta).some((key) => key.startsWith("modelsInfo"));

interface Job {
  id: string;
  entry: ProviderEntryLike;
  options: ModelsInfoOptions;
}

/**
 * For every provider with `options.meta.modelsInfoUrl`, at once (`Promise.all`): load the
 * document (cache, or the network with the provider's own token), map it, merge it into
 * `config.provider.<id>.models`. Each provider is bounded by its timeout; one provider's failure
 * never touches another, and this never throws.
 */
export async function applyModelsInfo(
  config: ConfigLike,
  deps: ApplyDeps,
): Promise<Record<string, ProviderReport>> {
  const { logger } = deps;
  // Without what a remote layer (a .well-known/opencode manifest) sets and may not.
  const collected = await collectManagedProviders(config, findOAuth2PluginOptions(config.plugin), {
    localConfig: deps.localConfig,
  });
  const jobs: Job[] = [];
  for (const [id, entry] of Object.entries(config.provider ?? {})) {
    const meta = entry?.options?.meta;
    if (!entry || !hasOwnOptions(meta)) continue;
    const parsed = parseModelsInfoOptions(id, meta);
    if ("issues" in parsed) {
      for (const issue of parsed.issues) {
        logger.emit("models_info_options_invalid", { provider: id, ...issue });
      }
      continue;
    }
    jobs.push({ id, entry, options: parsed.options });
  }
  logger.emit("models_info_plugin_loaded", { providers: jobs.map((j) => j.id) });
  const reports = await Promise.all(
    jobs.map(async (job): Promise<[string, ProviderReport]> => {
      try {
        return [job.id, await applyToProvider(job, collected, deps)];
      } catch (err) {
        logger.emit("models_info_failed", { provider: job.id, detail: String(err) });
        return [job.id, { document: "none" }];
      }
    }),
  );
  return Object.fromEntries(reports);
}

async function applyToProvider(
  { id, entry, options }: Job,
  collected: CollectedProviders,
  deps: ApplyDeps,
): Promise<ProviderReport> {
  const { logger } = deps;
  const baseURL = entry.options?.baseURL;
  // Own keys only: a provider named "constructor" or "toString" is not an inherited member.
  const managed = Object.hasOwn(collected.providers, id) ? collected.providers[id] : undefined;
  const misconfigured = !managed && collected.issues.some((issue) => issue.providerId === id);
  const timeoutMs = options.modelsInfoTimeoutMs ?? managed?.httpTimeoutMs ?? DEFAULT_TIMEOUT_MS;

  const resolve = (ref: string, resource: Resource): string | undefined => {
    try {
      return resolveUrl(ref, baseURL);
    } catch (err) {
      if (!isModelsInfoError(err)) throw err;
      logger.emit("models_info_url_invalid", { provider: id, resource, ...err.toLogFields() });
      return undefined;
    }
  };
  const url = resolve(options.modelsInfoUrl, "document");
  if (!url) return { document: "none" };
  const discover = Object.keys(entry.models ?? {}).length === 0;
  const listUrl = discover ? resolve("models", "model_list") : undefined;

  let shared: BearerSource | undefined;
  const bearerFor = (target: string, resource: Resource): BearerSource | undefined => {
    if (!managed && !misconfigured) return undefined;
    if (!sendsToken(options.modelsInfoAuth, target, baseURL)) {
      logger.emit("models_info_token_withheld", { provider: id, resource, url: target });
      return undefined;
    }
    shared ??= managed ? engineBearer(deps.engine, managed, logger) : unavailableBearer(id);
    return shared;
  };

  const { signal, clear } = deadline(timeoutMs, `provider "${id}"'s models endpoint`);
  const load = <T>(resource: Resource, target: string, parse: Codec<T>): Promise<LoadResult<T>> =>
    loadResource<T>({
      key: { resource, providerId: id, url: target },
      cache: deps.cache,
      ttlMs: options.modelsInfoTtlMs,
      now: deps.now,
      logger,
      parse: parse.fresh,
      decode: parse.cached,
      request: (etag) =>
        fetchJson({
          url: target,
          etag,
          bearer: bearerFor(target, resource),
          fetch: deps.fetch,
          signal,
          onUnauthorized: () =>
            logger.emit("models_info_unauthorized_retrying", {
              provider: id,
              resource,
              url: target,
            }),
        }),
    });

  let document: LoadResult<ModelEntry>;
  let list: LoadResult<string> | undefined;
  try {
    [document, list] = await Promise.all([
      load("document", url, DOCUMENT),
      listUrl && listUrl !== url ? load("model_list", listUrl, MODEL_LIST) : undefined,
    ]);
  } finally {
    clear();
  }

  // When the document is served at <baseURL>/models itself, it is also the model list.
  const discovered = discover
    ? listUrl === url
      ? document.items?.map((m) => m.id)
      : list?.items
    : undefined;
  const report: ProviderReport = {
    document: document.source,
    discovery: discover
      ? listUrl === url
        ? document.source
        : (list?.source ?? "none")
      : undefined,
  };
  if (!document.items && !discovered?.length) return report;

  const info = new Map<string, ModelPatch>(
    (document.items ?? []).map((m) => [m.id, toOpencodeModel(m)]),
  );
  const models = entry.models ?? {};
  const merge = mergeProviderModels({
    models,
    info,
    overwrite: options.modelsInfoOverwrite,
    addModels: options.modelsInfoAddModels,
    discovered,
  });
  if (merge.added.length) entry.models = models;
  if (document.items) {
    for (const model of merge.notListed) {
      logger.emit("models_info_model_not_listed", { provider: id, model, url });
    }
  }
  logger.emit("models_info_applied", {
    provider: id,
    url,
    source: document.source,
    updated: merge.updated,
    added: merge.added,
    kept: merge.kept,
  });
  return { ...report, merge };
}

/** How a resource is validated: fresh from the network, and again when read from the cache. */
interface Codec<T> {
  fresh: (body: unknown) => Parsed<T>;
  cached: (payload: unknown) => T[] | undefined;
}

const DOCUMENT: Codec<ModelEntry> = {
  fresh: parseModelsDocument,
  cached: (payload) => CachedDocumentSchema.safeParse(payload).data,
};

const MODEL_LIST: Codec<string> = {
  fresh: parseModelList,
  cached: (payload) => CachedModelListSchema.safeParse(payload).data,
};
