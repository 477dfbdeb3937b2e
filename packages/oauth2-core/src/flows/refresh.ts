import * as client from "openid-client";
import type { ProviderConfig } from "../config/schema.js";
import { clientOf, toOAuth2Error } from "../oidc/protocol-errors.js";

/**
 * Refresh token grant. With rotation the IdP returns a new refresh token and invalidates the
 * old one; without it the response has none and the caller keeps the old one (see
 * toStoredToken). Scope is not re-sent: the refreshed token keeps the granted scope.
 */
export async function refresh(
  provider: ProviderConfig,
  config: client.Configuration,
  refreshToken: string,
): Promise<client.TokenEndpointResponse> {
  const params = new URLSearchParams();
  if (provider.audience) params.set("audience", provider.audience);
  for (const resource of provider.resource ?? []) params.append("resource", resource);
  try {
    return await client.refreshTokenGrant(config, refreshToken, params);
  } catch (err) {
    throw toOAuth2Error(err, "refresh", provider.id, clientOf(config));
  }
}
