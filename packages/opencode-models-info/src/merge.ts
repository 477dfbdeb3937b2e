import { isRecord, type JsonObject } from "@vymalo/oauth2-core";
import type { ModelPatch } from "./map.js";

/**
 * Merging the document into opencode's config, leaf by leaf: a value the user wrote wins, unless
 * the provider lists that field (or its parent) in `modelsInfoOverwrite`. Everything else in a
 * model entry (options, headers, variants, …) is left as it is.
 */

/** Top-level model fields the document can set. */
export const MODEL_FIELDS = [
  "name",
  "limit",
  "cost",
  "modalities",
  "tool_call",
  "reasoning",
  "temperature",
  "attachment",
] as const;

/** Every leaf the document can set; `limit` covers `limit.context` and `limit.output`. */
export const MODEL_FIELD_PATHS = [
  "name",
  "limit.context",
  "limit.output",
  "cost.input",
  "cost.output",
  "cost.cache_read",
  "cost.cache_write",
  "modalities.input",
  "modalities.output",
  "tool_call",
  "reasoning",
  "temperature",
  "attachment",
] as const;

export type ModelFieldPath = (typeof MODEL_FIELD_PATHS)[number];

/** Which leaves the document may overwrite: `true` for all, or field names / leaf paths. */
export type OverwriteList = true | readonly string[] | undefined;

export function overwrites(list: OverwriteList, path: ModelFieldPath): boolean {
  if (list === true) return true;
  return Boolean(list?.some((field) => path === field || path.startsWith(`${field}.`)));
}

type Json = JsonObject;

function getPath(model: Json, path: ModelFieldPath): unknown {
  const [head, leaf] = path.split(".") as [string, string | undefined];
  const value = model[head];
  if (leaf === undefined) return value;
  return isRecord(value) ? value[leaf] : undefined;
}

function setPath(model: Json, path: ModelFieldPath, value: unknown): void {
  const [head, leaf] = path.split(".") as [string, string | undefined];
  if (leaf === undefined) {
    model[head] = value;
    return;
  }
  const parent = isRecord(model[head]) ? { ...(model[head] as Json) } : {};
  parent[leaf] = value;
  model[head] = parent;
}

/**
 * `models[key] = value` as an own property: model ids come from the endpoint, and an id such as
 * "__proto__" must add a model, not replace the object's prototype.
 */
function setOwn(models: Json, key: string, value: Json): void {
  Object.defineProperty(models, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * One model: `existing` (what the user wrote, maybe nothing) with the document's values filled in
 * where the user wrote none, or where `overwrite` says the document wins. Returns a new object.
 */
export function mergeModel(
  existing: Json | undefined,
  patch: ModelPatch,
  overwrite: OverwriteList,
): { model: Json; filled: ModelFieldPath[]; kept: ModelFieldPath[] } {
  const model: Json = { ...(existing ?? {}) };
  const filled: ModelFieldPath[] = [];
  const kept: ModelFieldPath[] = [];
  for (const path of MODEL_FIELD_PATHS) {
    const value = getPath(patch as Json, path);
    if (value === undefined) continue;
    if (getPath(model, path) !== undefined && !overwrites(overwrite, path)) {
      kept.push(path);
      continue;
    }
    setPath(model, path, value);
    filled.push(path);
  }
  return { model, filled, kept };
}

export interface MergeInput {
  /** `provider.<id>.models` as the user wrote it (mutated in place). */
  models: Json;
  /** What the document says, by API model id. */
  info: ReadonlyMap<string, ModelPatch>;
  overwrite: OverwriteList;
  /** Add models the document lists but the config lacks. */
  addModels: boolean;
  /** Model ids listed by the provider's server (`<baseURL>/models`): added when missing. */
  discovered?: readonly string[] | undefined;
}

export interface MergeResult {
  /** Config models that got at least one value from the document. */
  updated: string[];
  /** Models added to the config. */
  added: string[];
  /** Config models the document says nothing about. */
  notListed: string[];
  /** Leaves where the user's value was kept over the document's. */
  kept: number;
}

/**
 * Merges the document into one provider's models. Config models are matched by their `id`
 * field when they have one (the API model id), else by their key.
 */
export function mergeProviderModels(input: MergeInput): MergeResult {
  const { models, info, overwrite } = input;
  const result: MergeResult = { updated: [], added: [], notListed: [], kept: 0 };
  const present = new Set<string>();
  for (const [key, raw] of Object.entries(models)) {
    const existing = isRecord(raw) ? raw : {};
    const apiId = typeof existing.id === "string" && existing.id ? existing.id : key;
    present.add(key).add(apiId);
    const patch = info.get(apiId);
    if (!patch) {
      result.notListed.push(key);
      continue;
    }
    const merged = mergeModel(existing, patch, overwrite);
    result.kept += merged.kept.length;
    if (merged.filled.length) {
      setOwn(models, key, merged.model);
      result.updated.push(key);
    }
  }
  const add = (id: string) => {
    if (present.has(id)) return;
    present.add(id);
    setOwn(models, id, mergeModel(undefined, info.get(id) ?? {}, overwrite).model);
    result.added.push(id);
  };
  for (const id of input.discovered ?? []) add(id);
  if (input.addModels) for (const id of info.keys()) add(id);
  return result;
}
