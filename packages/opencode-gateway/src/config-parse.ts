import { type FieldIssue, fieldNamesAt, helpAt, parseWithMessages } from "@vymalo/oauth2-core";
import { type GatewayConfig, GatewayConfigSchema } from "./config.js";

/**
 * Validation of a config object against {@link GatewayConfigSchema}, and errors that say, for
 * every wrong field, where it is, what was expected, what the field is for and an example —
 * read from the schema's own `.meta()` help, so no field list is repeated here.
 */

/** One problem in a config: `location` names the field and, when an override set it, the env var. */
export type { FieldIssue as ConfigIssue };

export class GatewayConfigError extends Error {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[], source?: string) {
    const lines = issues.map((issue) => `  - ${formatIssue(issue)}`);
    super(`invalid gateway config${source ? ` (${source})` : ""}:\n${lines.join("\n")}`);
    this.name = "GatewayConfigError";
    this.issues = issues;
  }
}

const formatIssue = (issue: FieldIssue): string =>
  `${issue.location}: ${issue.expected}${issue.fix ? `. ${issue.fix}` : ""}`;

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
  const result = GatewayConfigSchema.safeParse(input, parseWithMessages);
  if (result.success) {
    parsedConfigs.add(result.data);
    return result.data;
  }
  const issues = result.error.issues.flatMap((issue): FieldIssue[] => {
    if (issue.code === "unrecognized_keys") {
      // One issue per unknown key, at its own path: a typo is named where it is.
      const known = fieldNamesAt(GatewayConfigSchema, issue.path);
      return issue.keys.map((key) => {
        const field = [...issue.path, key].map(String).join(".");
        return {
          field,
          location: field,
          expected: "unknown field",
          fix: `Remove it or fix its spelling${known.length ? ` (known here: ${known.join(", ")})` : ""}`,
        };
      });
    }
    const field = issue.path.map(String).join(".");
    const env = options.envSources?.get(field);
    const help = helpAt(GatewayConfigSchema, issue.path);
    return [
      {
        field,
        location: `${field || "(config)"}${env ? ` (set by ${env})` : ""}`,
        expected: issue.message,
        fix: help ? `${help.description}${help.example ? ` Example: ${help.example}` : ""}` : "",
      },
    ];
  });
  throw new GatewayConfigError(issues, options.source);
}
