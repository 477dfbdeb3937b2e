export { opencodeSink } from "@vymalo/oauth2-core";
export {
  type ApplyDeps,
  applyModelsInfo,
  type ConfigLike,
  type ProviderEntryLike,
  type ProviderReport,
} from "./apply.js";
export { engineBearer, unavailableBearer } from "./bearer.js";
export {
  type CachedCopy,
  type CacheEntry,
  type CacheKey,
  ModelsInfoCache,
  type Resource,
} from "./cache.js";
export {
  isModelsInfoError,
  ModelsInfoError,
  type ModelsInfoErrorCode,
  modelsInfoError,
} from "./errors.js";
export { MODELS_INFO_EVENTS, type ModelsInfoEvent, SERVICE } from "./events.js";
export {
  type BearerSource,
  deadline,
  type FetchJsonInput,
  type FetchLike,
  type FetchResult,
  fetchJson,
} from "./fetch.js";
export { type LoadResult, type LoadSource, loadResource } from "./load.js";
export {
  type Modality,
  type ModelPatch,
  OPENCODE_MODALITIES,
  perMillion,
  toModalities,
  toOpencodeModel,
} from "./map.js";
export {
  type MergeResult,
  MODEL_FIELD_PATHS,
  MODEL_FIELDS,
  mergeModel,
  mergeProviderModels,
  overwrites,
} from "./merge.js";
export {
  AUTH_MODES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_TTL_MS,
  type ModelsInfoOptions,
  ModelsInfoOptionsSchema,
  parseModelsInfoOptions,
  resolveUrl,
  sendsToken,
} from "./options.js";
export { createModelsInfoPlugin, ModelsInfoPlugin, type ModelsInfoPluginDeps } from "./plugin.js";
export {
  type ModelEntry,
  ModelEntrySchema,
  parseModelList,
  parseModelsDocument,
  type SkippedEntry,
} from "./schema.js";
