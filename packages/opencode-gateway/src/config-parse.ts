import type { z } from "zod";
import { type FieldHelp, type GatewayConfig, GatewayConfigSchema } from "./config.js";

/**
 * Validation of a config object against {@link GatewayConfigSchema}, and errors that say, for
 * every wrong field, where it is, what was expected, what the field is for and an example —
 * read from the schema's own `.meta()` help, so no field list is repeated here.
 */

/** One problem in a config, with where it is and how to fix it. */
export interface ConfigIssue {
  /** Dotted path of the field, e.g. `upstream.baseURL` or `models.0.context_length`. */
  field: string;
  message: string;
  /** The env var the value came from, when an override set it. */
  env?: string;
  help?: FieldHelp;
}

export class GatewayConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], source?: string) {
    const lines = issues.map((issue) => `  - ${formatIssue(issue)}`);
    super(`invalid gateway config${source ? ` (${source})` : ""}:\n${lines.join("\n")}`);
    this.name = "GatewayConfigError";
    this.issues = issues;
  }
}

function formatIssue(issue: ConfigIssue): string {
  const from = issue.env ? ` (set by ${issue.env})` : "";
  let text = `${issue.field || "(config)"}${from}: ${issue.message}`;
  if (issue.help) text += `. ${issue.help.description}`;
  if (issue.help?.example) text += ` Example: ${issue.help.example}`;
  return text;
}

/** The `.meta()` help of the schema at `path` (through optional/default/pipe/array/object). */
export function helpAt(path: readonly PropertyKey[]): FieldHelp | undefined {
  let schema: z.ZodType | undefined = GatewayConfigSchema;
  for (const key of path) schema = schema && childSchema(schema, key);
  // The help may sit on a wrapper or on the schema it wraps.
  while (schema) {
    const meta = schema.meta() as FieldHelp | undefined;
    if (meta?.description) return meta;
    const def = (schema as unknown as { def: Record<string, unknown> }).def;
    schema = (def.innerType ?? def.in) as z.ZodType | undefined;
  }
  return undefined;
}

/** The fields of the object schema at `path`, for "known fields" hints. */
function objectShapeAt(path: readonly PropertyKey[]): Record<string, unknown> | undefined {
  let schema: z.ZodType | undefined = GatewayConfigSchema;
  for (const key of path) schema = schema && childSchema(schema, key);
  while (schema) {
    const def = (schema as unknown as { def: Record<string, unknown> }).def;
    if (def.type === "object") return def.shape as Record<string, unknown>;
    schema = (def.innerType ?? def.in) as z.ZodType | undefined;
  }
  return undefined;
}

function childSchema(schema: z.ZodType, key: PropertyKey): z.ZodType | undefined {
  const def = (schema as unknown as { def?: Record<string, unknown> }).def ?? {};
  switch (def.type) {
    case "optional":
    case "default":
    case "nullable":
      return childSchema(def.innerType as z.ZodType, key);
    case "pipe":
      return childSchema(def.in as z.ZodType, key);
    case "array":
      return typeof key === "number" ? (def.element as z.ZodType) : undefined;
    case "object":
      return (def.shape as Record<string, z.ZodType>)[String(key)];
    default:
      return undefined;
  }
}

/** Configs that parseConfig produced, so createGateway does not parse them twice. */
const parsedConfigs = new WeakSet<object>();

export const isParsedConfig = (value: unknown): value is GatewayConfig =>
  typeof value === "object" && value !== null && parsedConfigs.has(value);

/**
 * Validates a config object. Throws {@link GatewayConfigError} naming each wrong field, its
 * expected form and an example; `envSources` maps dotted paths to the env var that set them.
 */
export function parseConfig(
  input: unknown,
  options: { source?: string; envSources?: ReadonlyMap<string, string> } = {},
): GatewayConfig {
  if (isParsedConfig(input)) return input;
  const result = GatewayConfigSchema.safeParse(input);
  if (result.success) {
    parsedConfigs.add(result.data);
    return result.data;
  }
  const issues = result.error.issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === "unrecognized_keys") {
      // One issue per unknown key, at its own path: a typo is named where it is.
      const known = Object.keys(objectShapeAt(issue.path) ?? {});
      return issue.keys.map((key) => ({
        field: [...issue.path, key].map(String).join("."),
        message: `unknown field: remove it or fix its spelling${known.length ? ` (known here: ${known.join(", ")})` : ""}`,
      }));
    }
    const field = issue.path.map(String).join(".");
    const env = options.envSources?.get(field);
    const fieldHelp = helpAt(issue.path);
    return [
      {
        field,
        message: issue.message,
        ...(env ? { env } : {}),
        ...(fieldHelp ? { help: fieldHelp } : {}),
      },
    ];
  });
  throw new GatewayConfigError(issues, options.source);
}
