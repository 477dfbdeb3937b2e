import type * as client from "openid-client";
import type { HeadlessFlow, ProviderConfig } from "../config/schema.js";
import { presentToken, type TokenSourceContext } from "./token-source.js";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** The headless flows that trade a token the workload already holds for an access token. */
export type WorkloadFlow = Exclude<HeadlessFlow, "client_credentials">;

/**
 * The two workload grants differ only in their grant type and in how the workload's token is
 * sent; reading the token (token-source.ts) and mapping the IdP's answer are the same.
 */
const WORKLOAD_GRANTS: Record<
  WorkloadFlow,
  { type: string; params(token: string, provider: ProviderConfig): Record<string, string> }
> = {
  // OAuth 2.0 Token Exchange (RFC 8693): the workload's token is the subject.
  token_exchange: {
    type: TOKEN_EXCHANGE_GRANT,
    params: (subjectToken, provider) => ({
      subject_token: subjectToken,
      subject_token_type: provider.subjectToken?.type ?? "urn:ietf:params:oauth:token-type:jwt",
      requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
    }),
  },
  // The JWT bearer grant (RFC 7523 §2.1): the workload's JWT is the grant itself. The client
  // authenticates as configured; a public client sends only its id.
  jwt_bearer: { type: JWT_BEARER_GRANT, params: (assertion) => ({ assertion }) },
};

/** Reads the workload's token from its source and presents it with the flow's grant. */
export function workloadGrant(
  flow: WorkloadFlow,
  provider: ProviderConfig,
  config: client.Configuration,
  source: TokenSourceContext = { env: process.env },
): Promise<client.TokenEndpointResponse> {
  const grant = WORKLOAD_GRANTS[flow];
  return presentToken(provider, config, source, {
    step: flow,
    type: grant.type,
    params: (token) => grant.params(token, provider),
  });
}
