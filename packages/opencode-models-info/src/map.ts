import type { ModelEntry } from "./schema.js";

/** The modalities opencode's model config accepts. */
export const OPENCODE_MODALITIES = ["text", "audio", "image", "video", "pdf"] as const;
export type Modality = (typeof OPENCODE_MODALITIES)[number];

/**
 * What the document says about one model, in opencode's model config fields
 * (`provider.<id>.models.<model>`). Every field is optional: what the document does not state is
 * left out, and opencode falls back to what it knows (or its defaults).
 */
export interface ModelPatch {
  name?: string;
  limit?: { context?: number; output?: number };
  /** USD per million tokens. */
  cost?: { input?: number; output?: number; cache_read?: number; cache_write?: number };
  modalities?: { input?: Modality[]; output?: Modality[] };
  tool_call?: boolean;
  reasoning?: boolean;
  temperature?: boolean;
  attachment?: boolean;
}

/** OpenRouter names PDF and other document inputs "file". */
const MODALITY_ALIASES: Record<string, Modality> = { file: "pdf" };

/** Keeps the modalities opencode accepts (aliases mapped, case ignored, no duplicates). */
export function toModalities(list: readonly string[]): Modality[] {
  const out = new Set<Modality>();
  for (const raw of list) {
    const name = raw.trim().toLowerCase();
    const modality =
      MODALITY_ALIASES[name] ?? (OPENCODE_MODALITIES as readonly string[]).find((m) => m === name);
    if (modality) out.add(modality as Modality);
  }
  return [...out];
}

/**
 * USD per token → USD per million tokens, rounded to 12 significant digits so "0.000003" is 3,
 * not 2.9999999999999996. Negative prices (OpenRouter's "-1": priced elsewhere) are unknown.
 */
export function perMillion(perToken: number | null | undefined): number | undefined {
  if (perToken === null || perToken === undefined || perToken < 0) return undefined;
  const price = perToken * 1_000_000;
  // A price too large to scale (1e308 per token) is as unknown as a negative one.
  if (!Number.isFinite(price)) return undefined;
  return Number.parseFloat(price.toPrecision(12));
}

const positive = (n: number | null | undefined): number | undefined =>
  n !== null && n !== undefined && n > 0 ? n : undefined;

/** Drops undefined values; undefined when nothing is left. */
function compact<T extends object>(value: T): T | undefined {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return entries.length ? (Object.fromEntries(entries) as T) : undefined;
}

/** One OpenRouter model → opencode model fields. See docs/models-info.md for the table. */
export function toOpencodeModel(entry: ModelEntry): ModelPatch {
  const patch: ModelPatch = {};
  const name = entry.name?.trim();
  if (name) patch.name = name;

  const limit = compact({
    context: positive(entry.top_provider?.context_length) ?? positive(entry.context_length),
    output: positive(entry.top_provider?.max_completion_tokens),
  });
  if (limit) patch.limit = limit;

  const cost = compact({
    input: perMillion(entry.pricing?.prompt),
    output: perMillion(entry.pricing?.completion),
    cache_read: perMillion(entry.pricing?.input_cache_read),
    cache_write: perMillion(entry.pricing?.input_cache_write),
  });
  if (cost) patch.cost = cost;

  const inputs = entry.architecture?.input_modalities;
  const outputs = entry.architecture?.output_modalities;
  const modalities = compact({
    input: inputs ? toModalities(inputs) : undefined,
    output: outputs ? toModalities(outputs) : undefined,
  });
  if (modalities) patch.modalities = modalities;
  if (modalities?.input) patch.attachment = modalities.input.some((m) => m !== "text");

  const params = entry.supported_parameters;
  if (params) {
    const has = (p: string) => params.includes(p);
    patch.tool_call = has("tools");
    patch.reasoning = has("reasoning") || has("include_reasoning");
    patch.temperature = has("temperature");
  }
  return patch;
}
