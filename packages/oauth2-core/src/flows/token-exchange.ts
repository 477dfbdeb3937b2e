import type * as client from "openid-client";
import type { ProviderConfig } from "../config/schema.js";
import { presentToken, type TokenSourceContext } from "./token-source.js";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";

/** OAuth 2.0 Token Exchange (RFC 8693): trade a subject token for an access token. */
export function tokenExchange(
  provider: ProviderConfig,
  config: client.Configuration,
  source: TokenSourceContext = { env: process.env },
): Promise<client.TokenEndpointResponse> {
  return presentToken(provider, config, source, {
    step: "token_exchange",
    type: TOKEN_EXCHANGE_GRANT,
    params: (subjectToken) => ({
      subject_token: subjectToken,
      subject_token_type: provider.subjectToken?.type ?? "urn:ietf:params:oauth:token-type:jwt",
      requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
    }),
  });
}
