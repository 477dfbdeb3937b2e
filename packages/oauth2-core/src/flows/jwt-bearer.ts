import type * as client from "openid-client";
import type { ProviderConfig } from "../config/schema.js";
import { presentToken, type TokenSourceContext } from "./token-source.js";

export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/**
 * The JWT bearer grant (RFC 7523 §2.1): a JWT the workload already holds (a CI platform's OIDC
 * token, a service-account token) is the grant itself, sent as `assertion`. The client
 * authenticates as configured: a public client sends only its id.
 */
export function jwtBearer(
  provider: ProviderConfig,
  config: client.Configuration,
  source: TokenSourceContext = { env: process.env },
): Promise<client.TokenEndpointResponse> {
  return presentToken(provider, config, source, {
    step: "jwt_bearer",
    type: JWT_BEARER_GRANT,
    params: (assertion) => ({ assertion }),
  });
}
