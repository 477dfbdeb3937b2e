import { parseWithMessages } from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";
import { modelsInfoError } from "./errors.js";

/**
 * The wire shape: OpenRouter's `/models` answer, `{ "data": [ … ] }` or a bare array. Only the
 * fields the plugin maps are read (others are ignored); `null` is accepted wherever OpenRouter
 * sends it. Each entry is validated on its own, so one bad entry costs only itself.
 */

/** A number, or a string holding one ("0.000003"): OpenRouter sends prices as strings. */
const toNumber = (value: number | string): number =>
  typeof value === "number" ? value : value.trim() === "" ? Number.NaN : Number(value);

const numeric = z.pipe(
  z.union([z.number(), z.string()], { error: "expected a number or a numeric string" }).check(
    z.refine((value) => Number.isFinite(toNumber(value)), {
      error: (issue) => `expected a number, got ${JSON.stringify(issue.input)}`,
    }),
  ),
  z.transform(toNumber),
);

/** A token count: a non-negative integer (as a number or numeric string). */
const tokenCount = numeric.check(
  z.refine((n) => Number.isInteger(n) && n >= 0, {
    error: "expected a non-negative whole number of tokens",
  }),
);

const stringList = z.array(z.string(), { error: "expected an array of strings" });

export const ModelEntrySchema = z.object({
  id: z
    .string({ error: "expected the model id (a string)" })
    .check(z.minLength(1, { error: "must not be empty" })),
  name: z.nullish(z.string()),
  context_length: z.nullish(tokenCount),
  top_provider: z.nullish(
    z.object({
      context_length: z.nullish(tokenCount),
      max_completion_tokens: z.nullish(tokenCount),
    }),
  ),
  /** USD per token. */
  pricing: z.nullish(
    z.object({
      prompt: z.nullish(numeric),
      completion: z.nullish(numeric),
      input_cache_read: z.nullish(numeric),
      input_cache_write: z.nullish(numeric),
    }),
  ),
  architecture: z.nullish(
    z.object({
      input_modalities: z.nullish(stringList),
      output_modalities: z.nullish(stringList),
    }),
  ),
  supported_parameters: z.nullish(stringList),
});

/** One model as validated (numbers parsed, unknown fields dropped). */
export type ModelEntry = z.output<typeof ModelEntrySchema>;

/** An entry left out of the result, and why. */
export interface SkippedEntry {
  index: number;
  id?: string | undefined;
  issues: string;
}

export interface Parsed<T> {
  items: T[];
  skipped: SkippedEntry[];
}

function entriesOf(body: unknown, what: string): unknown[] {
  if (Array.isArray(body)) return body;
  if (typeof body === "object" && body !== null) {
    const data = (body as { data?: unknown }).data;
    if (Array.isArray(data)) return data;
  }
  throw modelsInfoError(
    "document_invalid",
    `the ${what} is neither { "data": [ … ] } nor an array`,
  );
}

const describe = (error: z.ZodError): string =>
  error.issues.map((i) => `${i.path.join(".") || "(entry)"}: ${i.message}`).join("; ");

const idOf = (raw: unknown): string | undefined => {
  const id = typeof raw === "object" && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === "string" ? id : undefined;
};

function parseEntries<T extends { id: string }>(
  body: unknown,
  what: string,
  schema: z.ZodMiniType<T>,
): Parsed<T> {
  const raw = entriesOf(body, what);
  const items: T[] = [];
  const skipped: SkippedEntry[] = [];
  const seen = new Set<string>();
  raw.forEach((entry, index) => {
    const result = schema.safeParse(entry, parseWithMessages);
    if (!result.success) {
      skipped.push({ index, id: idOf(entry), issues: describe(result.error) });
    } else if (seen.has(result.data.id)) {
      skipped.push({ index, id: result.data.id, issues: "id: duplicate (the first one is kept)" });
    } else {
      seen.add(result.data.id);
      items.push(result.data);
    }
  });
  // A list whose every entry is wrong is a wrong document, not an empty catalogue: it must not
  // replace a good cached copy.
  if (raw.length > 0 && items.length === 0) {
    throw modelsInfoError(
      "document_invalid",
      `none of the ${raw.length} entries of the ${what} is valid (first: ${skipped[0]?.issues})`,
    );
  }
  return { items, skipped };
}

/** Parses a models document. Throws `document_invalid` when the document as a whole is wrong. */
export function parseModelsDocument(body: unknown): Parsed<ModelEntry> {
  return parseEntries(body, "models document", ModelEntrySchema);
}

const ListedModelSchema = z.object({
  id: z
    .string({ error: "expected the model id (a string)" })
    .check(z.minLength(1, { error: "must not be empty" })),
});

/** Parses an OpenAI-style model list (`{ "data": [ { "id": … } ] }`) into its ids. */
export function parseModelList(body: unknown): Parsed<string> {
  const { items, skipped } = parseEntries(body, "model list", ListedModelSchema);
  return { items: items.map((m) => m.id), skipped };
}

/** What the cache keeps for each resource: already-validated payloads, checked again on read. */
export const CachedDocumentSchema = z.array(ModelEntrySchema);
export const CachedModelListSchema = z.array(z.string().check(z.minLength(1)));
