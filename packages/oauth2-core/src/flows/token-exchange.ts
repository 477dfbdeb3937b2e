import * as client from "openid-client";
import type { ProviderConfig } from "../config/schema.js";
import { clientOf, toOAuth2Error } from "../oidc/protocol-errors.js";
import { grantParams } from "./grant-params.js";
import { readSubjectToken, type TokenSourceContext } from "./token-source.js";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";

/** OAuth 2.0 Token Exchange (RFC 8693): trade a subject token for an access token. */
export async function tokenExchange(
  provider: ProviderConfig,
  config: client.Configuration,
  source: TokenSourceContext = { env: process.env },
): Promise<client.TokenEndpointResponse> {
  const subjectToken = await readSubjectToken(provider, source);
  const params = grantParams(provider, {
    subject_token: subjectToken,
    subject_token_type: provider.subjectToken?.type ?? "urn:ietf:params:oauth:token-type:jwt",
    requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
  });
  try {
    return await client.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, params);
  } catch (err) {
    throw toOAuth2Error(err, "token_exchange", provider.id, clientOf(config));
  }
}
