import type { ProviderConfig } from "../config/schema.js";

/** scope, audience and resource — the parameters every grant request carries. */
export function grantParams(
  provider: ProviderConfig,
  extra: Record<string, string> = {},
): URLSearchParams {
  const params = new URLSearchParams();
  if (provider.scopes.length) params.set("scope", provider.scopes.join(" "));
  if (provider.audience) params.set("audience", provider.audience);
  for (const resource of provider.resource ?? []) params.append("resource", resource);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params;
}
