import type { LoadResult, LoadSource } from "./load.js";
import type { ModelEntry } from "./schema.js";

/**
 * Where a provider's model list comes from. A provider that lists models itself needs none;
 * otherwise it is `<baseURL>/models`, which may be the document's own URL — then the document
 * is also the list and is fetched once.
 */
export type ListPlan =
  | { kind: "not_needed" }
  | { kind: "unresolved" }
  | { kind: "document" }
  | { kind: "fetch"; url: string };

export function planModelList(
  listsModels: boolean,
  resolveListUrl: () => string | undefined,
  documentUrl: string,
): ListPlan {
  if (listsModels) return { kind: "not_needed" };
  const url = resolveListUrl();
  if (!url) return { kind: "unresolved" };
  return url === documentUrl ? { kind: "document" } : { kind: "fetch", url };
}

/** The model ids discovered, and how they were had (the report's `discovery`). */
export interface Discovery {
  ids: string[] | undefined;
  source: LoadSource;
}

type Loaded = { document: LoadResult<ModelEntry>; list: LoadResult<string> | undefined };

/** One rule per plan: what it discovers. */
const DISCOVERY: Record<ListPlan["kind"], (loaded: Loaded) => Discovery | undefined> = {
  not_needed: () => undefined,
  unresolved: () => ({ ids: undefined, source: "none" }),
  document: ({ document }) => ({
    ids: document.items?.map((m) => m.id),
    source: document.source,
  }),
  fetch: ({ list }) => ({ ids: list?.items, source: list?.source ?? "none" }),
};

export const discoveryOf = (plan: ListPlan, loaded: Loaded): Discovery | undefined =>
  DISCOVERY[plan.kind](loaded);
