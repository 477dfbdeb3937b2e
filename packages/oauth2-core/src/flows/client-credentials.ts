import * as client from "openid-client";
import type { ProviderConfig } from "../config/schema.js";
import { clientOf, toOAuth2Error } from "../oidc/protocol-errors.js";
import { grantParams } from "./grant-params.js";

/** Client credentials grant (RFC 6749 §4.4) with the provider's confidential client. */
export async function clientCredentials(
  provider: ProviderConfig,
  config: client.Configuration,
): Promise<client.TokenEndpointResponse> {
  try {
    return await client.clientCredentialsGrant(config, grantParams(provider));
  } catch (err) {
    throw toOAuth2Error(err, "client_credentials", provider.id, clientOf(config));
  }
}
