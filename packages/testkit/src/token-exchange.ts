import type Provider from "oidc-provider";
import { errors, type KoaContextWithOIDC, type ResourceServer } from "oidc-provider";
import { TOKEN_EXCHANGE_GRANT } from "./clients.js";
import { type TrustedIssuer, verifyWorkloadJwt } from "./workload-issuer.js";

export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

export interface TokenExchangeOptions {
  /** Subject tokens the IdP accepts; anything else is `invalid_grant`… */
  acceptedSubjectTokens: readonly string[];
  /** …unless it is a JWT of one of these issuers (a CI job's or a pod's token). */
  trustedIssuers?: readonly TrustedIssuer[];
  /** Resource indicator (and JWT audience) of the issued access token. */
  audience: string;
  resourceServer: ResourceServer;
}

/**
 * RFC 8693 token exchange: validates `subject_token` against a fixed allow-list and issues
 * a client-credentials style JWT access token for the kit's audience (sub = client_id).
 * Clients need the grant type in their `grant_types` (the confidential helper has it).
 */
export function registerTokenExchange(provider: Provider, options: TokenExchangeOptions): void {
  const accepted = new Set(options.acceptedSubjectTokens);
  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    async (ctx) => {
      const { subject_token: subjectToken, subject_token_type: subjectTokenType } = ctx.oidc.params;
      if (typeof subjectToken !== "string" || subjectToken === "") {
        throw new errors.InvalidRequest("missing required parameter 'subject_token'");
      }
      if (typeof subjectTokenType !== "string" || subjectTokenType === "") {
        throw new errors.InvalidRequest("missing required parameter 'subject_token_type'");
      }
      if (!accepted.has(subjectToken)) {
        if (!options.trustedIssuers?.length) {
          throw new errors.InvalidGrant("subject_token is not recognised");
        }
        await verifyWorkloadJwt(subjectToken, options.trustedIssuers);
      }
      ctx.body = {
        ...(await mintAccessToken(ctx, options)),
        issued_token_type: ACCESS_TOKEN_TYPE,
      };
    },
    ["subject_token", "subject_token_type", "requested_token_type", "audience", "scope"],
  );
}

/** A client-credentials style JWT access token for the kit's audience (sub = client_id). */
export async function mintAccessToken(
  ctx: KoaContextWithOIDC,
  options: { audience: string; resourceServer: ResourceServer },
): Promise<Record<string, unknown>> {
  const { ClientCredentials, ResourceServer: ResourceServerClass } = ctx.oidc.provider;
  const token = new ClientCredentials({
    client: ctx.oidc.client!,
    scope: typeof ctx.oidc.params?.scope === "string" ? ctx.oidc.params.scope : undefined,
  });
  token.resourceServer = new ResourceServerClass(options.audience, options.resourceServer);
  const value = await token.save();
  return {
    access_token: value,
    token_type: "Bearer",
    expires_in: token.expiration,
    ...(token.scope ? { scope: token.scope } : {}),
  };
}
