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

/**
 * The browser login's authorization request, minus the client and endpoint (openid-client adds
 * them): scope/audience/resource, `authorizationParams`, then what the protocol fixes. doctor
 * sends the same request to probe the authorization endpoint.
 */
export function authorizationRequestParams(
  provider: ProviderConfig,
  request: { redirectUri: string; state: string; nonce?: string; codeChallenge?: string },
): URLSearchParams {
  const params = grantParams(provider, provider.authorizationParams);
  params.set("redirect_uri", request.redirectUri);
  params.set("response_type", "code");
  params.set("state", request.state);
  if (request.nonce) params.set("nonce", request.nonce);
  if (request.codeChallenge) {
    params.set("code_challenge", request.codeChallenge);
    params.set("code_challenge_method", "S256");
  }
  return params;
}
