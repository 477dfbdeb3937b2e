import { type FieldIssue, parseWithMessages } from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";
import { modelsInfoError } from "./errors.js";
import { MODEL_FIELD_PATHS, MODEL_FIELDS } from "./merge.js";

/**
 * The plugin's settings, read from `provider.<id>.options.meta` next to the provider they
 * describe. One zod schema; the type is inferred from it. Other keys in `meta` belong to others
 * and are ignored, but a `modelsInfo*` key this schema does not know is reported (a typo would
 * otherwise be silently ignored).
 */
export const DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_TIMEOUT_MS = 5000;

export const AUTH_MODES = ["same-origin", "always", "never"] as const;

const OVERWRITABLE = [...MODEL_FIELDS, ...MODEL_FIELD_PATHS] as const;

export const ModelsInfoOptionsSchema = z.object({
  modelsInfoUrl: z
    .string({ error: "expected a URL string (absolute, or relative to options.baseURL)" })
    .check(z.minLength(1, { error: "must not be empty" })),
  modelsInfoOverwrite: z.optional(
    z.union([z.literal(true), z.array(z.enum(OVERWRITABLE))], {
      error: `expected true or an array of fields among ${[...new Set(OVERWRITABLE)].join(", ")}`,
    }),
  ),
  modelsInfoAddModels: z._default(z.boolean({ error: "expected true or false" }), false),
  modelsInfoTtlMs: z._default(z.milliseconds(0), DEFAULT_TTL_MS),
  // The deadline is a setTimeout, so it is bounded like the core's timeouts.
  modelsInfoTimeoutMs: z.optional(z.timerMs(100)),
  modelsInfoAuth: z._default(
    z.enum(AUTH_MODES, { error: `expected one of ${AUTH_MODES.join(", ")}` }),
    "same-origin",
  ),
});

export type ModelsInfoOptions = z.output<typeof ModelsInfoOptionsSchema>;

const KNOWN_KEYS = new Set(Object.keys(ModelsInfoOptionsSchema.shape));

/** The options of one provider, or the issues that stop it (each naming where to fix it). */
export function parseModelsInfoOptions(
  providerId: string,
  meta: Record<string, unknown>,
): { options: ModelsInfoOptions } | { issues: FieldIssue[] } {
  const base = `provider.${providerId}.options.meta`;
  const own = Object.fromEntries(Object.entries(meta).filter(([k]) => k.startsWith("modelsInfo")));
  const issues: FieldIssue[] = Object.keys(own)
    .filter((key) => !KNOWN_KEYS.has(key))
    .map((key) => ({
      field: key,
      location: `${base}.${key}`,
      expected: `unknown option "${key}"`,
      fix: `remove it or correct its spelling (known: ${[...KNOWN_KEYS].join(", ")})`,
    }));
  const result = ModelsInfoOptionsSchema.safeParse(own, parseWithMessages);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const field = issue.path.map(String).join(".");
      issues.push({
        field,
        location: `${base}.${field}`,
        expected: issue.message,
        fix: `correct ${base}.${field} — see docs/models-info.md`,
      });
    }
  }
  if (issues.length || !result.success) return { issues };
  return { options: result.data };
}

/**
 * Resolves `ref` against the provider's `baseURL`, taken as a directory: with baseURL
 * `https://llm.example.com/v1`, `models-info.json` is `https://llm.example.com/v1/models-info.json`
 * and `/catalog.json` is `https://llm.example.com/catalog.json`. Absolute URLs are used as they are.
 */
export function resolveUrl(ref: string, baseURL: unknown): string {
  let url: URL;
  if (URL.canParse(ref)) {
    url = new URL(ref);
  } else {
    if (typeof baseURL !== "string" || !URL.canParse(baseURL)) {
      throw modelsInfoError(
        "url_invalid",
        `"${ref}" is relative and the provider has no absolute options.baseURL to resolve it against`,
      );
    }
    url = new URL(ref, baseURL.endsWith("/") ? baseURL : `${baseURL}/`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw modelsInfoError("url_invalid", `"${url.href}" is not an http(s) URL`);
  }
  return url.href;
}

/** Whether the bearer goes with a request to `url` (see `modelsInfoAuth`). */
export function sendsToken(
  mode: ModelsInfoOptions["modelsInfoAuth"],
  url: string,
  baseURL: unknown,
): boolean {
  if (mode !== "same-origin") return mode === "always";
  if (typeof baseURL !== "string" || !URL.canParse(baseURL)) return false;
  return new URL(url).origin === new URL(baseURL).origin;
}
