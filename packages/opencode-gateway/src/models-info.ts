import { withHelp } from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";
import { etagOf } from "./etag.js";

/**
 * The models the gateway serves, described once in the config with OpenRouter-shaped metadata,
 * and the `GET /v1/models-info` document built from them (OpenRouter's `/models` answer,
 * `{ "data": [ … ] }`), which the `@vymalo/opencode-models-info` plugin reads.
 */

/** The modalities OpenRouter names (its "file" is PDF and other documents). */
export const MODALITIES = ["text", "image", "file", "audio", "video"] as const;

const tokenCount = (what: string) =>
  z
    .number({ error: `expected ${what} as a whole number of tokens` })
    .check(
      z.int({ error: "expected a whole number of tokens" }),
      z.positive({ error: "must be greater than 0" }),
    );

/** USD per token, as a number or a string holding one (OpenRouter's own documents use strings). */
const price = z.pipe(
  z.union([z.number(), z.string()], {
    error: 'expected USD per token, e.g. 0.000003 or "0.000003"',
  }),
  z.transform((value: number | string, ctx) => {
    const n = typeof value === "number" ? value : value.trim() === "" ? Number.NaN : Number(value);
    if (!Number.isFinite(n) || n < 0) {
      ctx.issues.push({
        code: "custom",
        message: `expected a non-negative number of USD per token, got ${JSON.stringify(value)}`,
        input: value,
      });
      return z.NEVER;
    }
    return n;
  }),
);

const modalityList = z
  .array(z.enum(MODALITIES, { error: `expected one of ${MODALITIES.join(", ")}` }))
  .check(z.minLength(1, { error: "list at least one modality" }));

export const ModelSchema = z.strictObject({
  id: withHelp(
    z
      .string({ error: "expected the model id the upstream serves (a string)" })
      .check(z.minLength(1, { error: "must not be empty" })),
    "The model id, exactly as the upstream serves it.",
    '"qwen3"',
  ),
  name: withHelp(
    z.optional(z.string().check(z.minLength(1, { error: "must not be empty" }))),
    "Display name (default: the id).",
    '"Qwen3 Coder 30B"',
  ),
  description: withHelp(z.optional(z.string()), "A sentence about the model."),
  context_length: withHelp(tokenCount("the context window"), "Context window in tokens.", "131072"),
  max_completion_tokens: withHelp(
    z.optional(tokenCount("the output limit")),
    "Longest answer in tokens.",
    "16384",
  ),
  pricing: withHelp(
    z.optional(
      z.strictObject({
        prompt: price,
        completion: price,
        input_cache_read: z.optional(price),
        input_cache_write: z.optional(price),
      }),
    ),
    "USD per token (not per million).",
    '{ "prompt": "0.000003", "completion": "0.000015" }',
  ),
  modalities: withHelp(
    z._default(
      z.strictObject({
        input: z._default(modalityList, ["text"]),
        output: z._default(modalityList, ["text"]),
      }),
      { input: ["text"], output: ["text"] },
    ),
    "Input and output modalities.",
    '{ "input": ["text", "image"], "output": ["text"] }',
  ),
  supported_parameters: withHelp(
    z._default(
      z.array(z.string().check(z.minLength(1)), {
        error: "expected an array of parameter names",
      }),
      [],
    ),
    'OpenAI request parameters the model honours; "tools" marks tool calling, "reasoning"/"include_reasoning" reasoning, "temperature" temperature.',
    '["tools", "temperature"]',
  ),
});

export type ModelConfig = z.output<typeof ModelSchema>;

/** Significant digits a price keeps: what a double holds exactly. */
const PRICE_DIGITS = 15;

/**
 * USD per token as OpenRouter writes it: a plain decimal string, never "3e-7", rounded to 15
 * significant digits (half up, as `Intl.NumberFormat` rounds). Written out by hand: the first
 * `Intl` formatter a process makes loads ICU's data, ~8 MiB of resident memory for the
 * gateway's lifetime (docs/performance.md, the gateway's memory).
 */
export function formatPrice(usd: number): string {
  if (usd === 0) return "0";
  // The shortest digits that read back as `usd`: "1.5e-5" -> "15", exponent -5.
  const [mantissa = "", exponentText = "0"] = Math.abs(usd).toExponential().split("e");
  let digits = mantissa.replace(".", "");
  let exponent = Number(exponentText);
  if (digits.length > PRICE_DIGITS) {
    const up = (digits[PRICE_DIGITS] ?? "0") >= "5";
    digits = digits.slice(0, PRICE_DIGITS);
    if (up) digits = String(BigInt(digits) + 1n);
    if (digits.length > PRICE_DIGITS) exponent += 1; // 999… rounded up to 1000…
  }
  digits = digits.replace(/0+$/, "");
  const sign = usd < 0 ? "-" : "";
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = exponent + 1;
  if (digits.length <= whole) return `${sign}${digits}${"0".repeat(whole - digits.length)}`;
  return `${sign}${digits.slice(0, whole)}.${digits.slice(whole)}`;
}

/** One model as OpenRouter's `/models` lists it. */
export function toOpenRouterModel(model: ModelConfig) {
  const { input, output } = model.modalities;
  const pricing: Record<string, string> = {};
  if (model.pricing) {
    for (const [key, value] of Object.entries(model.pricing)) {
      if (value !== undefined) pricing[key] = formatPrice(value);
    }
  }
  return {
    id: model.id,
    name: model.name ?? model.id,
    ...(model.description === undefined ? {} : { description: model.description }),
    context_length: model.context_length,
    architecture: {
      modality: `${input.join("+")}->${output.join("+")}`,
      input_modalities: input,
      output_modalities: output,
    },
    pricing,
    top_provider: {
      context_length: model.context_length,
      max_completion_tokens: model.max_completion_tokens ?? null,
      is_moderated: false,
    },
    per_request_limits: null,
    supported_parameters: model.supported_parameters,
  };
}

/** The document and its validator, computed once at start-up. */
export interface ModelsInfoDocument {
  body: string;
  etag: string;
}

export function buildModelsInfo(models: readonly ModelConfig[]): ModelsInfoDocument {
  // No `created` timestamp: the document (and its ETag) stays identical across restarts.
  const body = JSON.stringify({ data: models.map(toOpenRouterModel) });
  return { body, etag: etagOf(body) };
}
