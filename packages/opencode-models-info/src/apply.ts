import {
  type CollectedProviders,
  collectManagedProviders,
  findOAuth2PluginOptions,
  isRecord,
  type LocalConfigSource,
  outboundFetch,
  type TokenEngine,
} from "@vymalo/oauth2-core";
import type { ModelsInfoCache, Resource } from "./cache.js";
import { discoveryOf, type ListPlan, planModelList } from "./discovery.js";
import type { ModelsInfoLogger } from "./events.js";
import { deadline, type FetchLike, fetchJson } from "./fetch.js";
import { type LoadResult, type LoadSource, loadResource } from "./load.js";
import { type ModelPatch, toOpencodeModel } from "./map.js";
import { type MergeResult, mergeProviderModels } from "./merge.js";
import { type ModelsInfoOptions, parseModelsInfoOptions } from "./options.js";
import { type ProviderAccess, providerAccess } from "./provider-access.js";
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
  logger: ModelsInfoLogger;
  /** What this machine's own config says. Default: every local opencode config source. */
  localConfig?: LocalConfigSource | undefined;
}

export interface ProviderReport {
  document: LoadSource;
  /** How the model list was had, when the provider lists no models. */
  discovery?: LoadSource | undefined;
  merge?: MergeResult | undefined;
}

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
  const jobs = jobsFrom(config, logger);
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

/** The providers that ask for models info with valid options; invalid ones are logged. */
function jobsFrom(config: ConfigLike, logger: ModelsInfoLogger): Job[] {
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
  return jobs;
}

/**
 * One provider, in steps: resolve the document's URL, plan where the model list comes from
 * (discovery.ts), load both under one deadline, and merge what came into the provider's models.
 */
async function applyToProvider(
  { id, entry, options }: Job,
  collected: CollectedProviders,
  deps: ApplyDeps,
): Promise<ProviderReport> {
  const access = providerAccess({
    id,
    baseURL: entry.options?.baseURL,
    options,
    collected,
    engine: deps.engine,
    logger: deps.logger,
  });
  const url = access.resolve(options.modelsInfoUrl, "document");
  if (!url) return { document: "none" };
  const plan = planModelList(
    Object.keys(entry.models ?? {}).length > 0,
    () => access.resolve("models", "model_list"),
    url,
  );
  const loaded = await loadResources({ id, options, access, deps }, url, plan);
  const discovery = discoveryOf(plan, loaded);
  const report: ProviderReport = { document: loaded.document.source, discovery: discovery?.source };
  if (!loaded.document.items && !discovery?.ids?.length) return report;
  const merge = mergeDocument(
    { id, entry, options, logger: deps.logger },
    url,
    loaded.document,
    discovery?.ids,
  );
  return { ...report, merge };
}

interface LoadContext {
  id: string;
  options: ModelsInfoOptions;
  access: ProviderAccess;
  deps: ApplyDeps;
}

/** The document and, when the plan needs a separate fetch, the model list — under one deadline. */
async function loadResources(
  { id, options, access, deps }: LoadContext,
  url: string,
  plan: ListPlan,
): Promise<{ document: LoadResult<ModelEntry>; list: LoadResult<string> | undefined }> {
  const { logger } = deps;
  const { signal, clear } = deadline(access.timeoutMs, `provider "${id}"'s models endpoint`);
  // The one outbound transport: the proxy variables, and the provider's tls files.
  const fetch = outboundFetch({ tls: access.tls, base: deps.fetch, providerId: id });
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
          bearer: access.bearerFor(target, resource),
          fetch,
          signal,
          onUnauthorized: () =>
            logger.emit("models_info_unauthorized_retrying", {
              provider: id,
              resource,
              url: target,
            }),
        }),
    });
  try {
    const [document, list] = await Promise.all([
      load("document", url, DOCUMENT),
      plan.kind === "fetch" ? load("model_list", plan.url, MODEL_LIST) : undefined,
    ]);
    return { document, list };
  } finally {
    clear();
  }
}

interface MergeContext {
  id: string;
  entry: ProviderEntryLike;
  options: ModelsInfoOptions;
  logger: ModelsInfoLogger;
}

/** Merges the document (and discovered ids) into the provider's models, and logs the outcome. */
function mergeDocument(
  { id, entry, options, logger }: MergeContext,
  url: string,
  document: LoadResult<ModelEntry>,
  discovered: string[] | undefined,
): MergeResult {
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
  return merge;
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
