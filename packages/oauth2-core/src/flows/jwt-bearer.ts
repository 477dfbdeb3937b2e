import * as client from "openid-client";
import type { ProviderConfig } from "../config/schema.js";
import { clientOf, toOAuth2Error } from "../oidc/protocol-errors.js";
import { grantParams } from "./grant-params.js";
import { readSubjectToken, type TokenSourceContext } from "./token-source.js";

export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/**
 * The JWT bearer grant (RFC 7523 §2.1): a JWT the workload already holds (a CI platform's OIDC
 * token, a service-account token) is the grant itself, sent as `assertion`. The client
 * authenticates as configured: a public client sends only its id.
 */
export async function jwtBearer(
  provider: ProviderConfig,
  config: client.Configuration,
  source: TokenSourceContext = { env: process.env },
): Promise<client.TokenEndpointResponse> {
  const assertion = await readSubjectToken(provider, source);
  try {
    return await client.genericGrantRequest(
      config,
      JWT_BEARER_GRANT,
      grantParams(provider, { assertion }),
    );
  } catch (err) {
    throw toOAuth2Error(err, "jwt_bearer", provider.id, clientOf(config));
  }
}
