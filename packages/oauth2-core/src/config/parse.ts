import type * as z from "zod/mini";
import { type FieldIssue, nearestHelpAt } from "./field-help.js";
import { parseWithMessages } from "./messages.js";
import { type ProviderConfig, ProviderOAuth2Schema, toProviderConfig } from "./schema.js";

/** An invalid field of a provider's oauth2 block (field: the path inside the block). */
export interface ConfigIssue extends FieldIssue {
  providerId: string;
  /** The whole thing as one line. */
  message: string;
}

/** A zod issue of an oauth2 block as a {@link ConfigIssue}: where, what was expected, the fix. */
export function describeIssue(
  providerId: string,
  base: string,
  issue: z.core.$ZodIssue,
): ConfigIssue {
  const unknownKeys = issue.code === "unrecognized_keys" ? issue.keys : [];
  const path = [...issue.path, ...(unknownKeys.length === 1 ? unknownKeys : [])];
  const field = path.map(String).join(".") || "(oauth2 block)";
  const location = path.length ? `${base}.${field}` : base;
  const fieldHelp = nearestHelpAt(ProviderOAuth2Schema, path);
  let expected = issue.message;
  let fix: string;
  if (issue.code === "unrecognized_keys") {
    expected = `unknown field${unknownKeys.length > 1 ? "s" : ""} ${unknownKeys.map((k) => `"${k}"`).join(", ")}`;
    fix =
      "remove it or correct its spelling (field names are case-sensitive, e.g. clientId) — see docs/configuration.md";
  } else if (issue.code === "custom") {
    // Cross-field rules are written as instructions already ("remove clientSecret, or …").
    fix = issue.message;
  } else if (fieldHelp) {
    fix = `set ${location} — ${fieldHelp.description}${fieldHelp.example ? ` Example: ${fieldHelp.example}` : ""}`;
  } else {
    fix = `correct ${location} — see docs/configuration.md`;
  }
  return configIssue({ providerId, field, location, expected, fix });
}

/** A {@link ConfigIssue} with its one-line message. */
export function configIssue(issue: Omit<ConfigIssue, "message">): ConfigIssue {
  const { providerId, location, expected, fix } = issue;
  return {
    ...issue,
    message: `opencode-oauth2: provider "${providerId}": ${location}: ${expected}. Fix: ${fix}`,
  };
}

/**
 * Parses one provider's oauth2 block. Never throws: bad input comes back as issues, one per
 * invalid field, each naming the provider, the field, what was expected and the fix.
 */
export function parseProviderConfig(
  providerId: string,
  raw: unknown,
  location = `provider.${providerId}.options.oauth2`,
): { config: ProviderConfig } | { issues: ConfigIssue[] } {
  const result = ProviderOAuth2Schema.safeParse(raw, parseWithMessages);
  if (result.success) return { config: toProviderConfig(providerId, result.data) };
  // One message per field: the first (most basic) problem is the one to fix first.
  const byField = new Map<string, ConfigIssue>();
  for (const issue of result.error.issues) {
    const described = describeIssue(providerId, location, issue);
    if (!byField.has(described.field)) byField.set(described.field, described);
  }
  return { issues: [...byField.values()] };
}
