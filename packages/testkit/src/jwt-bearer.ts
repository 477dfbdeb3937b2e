import type Provider from "oidc-provider";
import { errors, type ResourceServer } from "oidc-provider";
import { JWT_BEARER_GRANT } from "./clients.js";
import { mintAccessToken } from "./token-exchange.js";
import { type TrustedIssuer, verifyWorkloadJwt } from "./workload-issuer.js";

export interface JwtBearerOptions {
  trustedIssuers: readonly TrustedIssuer[];
  /** Resource indicator (and JWT audience) of the issued access token. */
  audience: string;
  resourceServer: ResourceServer;
}

/**
 * The JWT bearer grant (RFC 7523 §2.1): `assertion` is a JWT of a trusted issuer; the answer is
 * an access token for the kit's audience. Clients need the grant in their `grant_types`.
 */
export function registerJwtBearer(provider: Provider, options: JwtBearerOptions): void {
  provider.registerGrantType(
    JWT_BEARER_GRANT,
    async (ctx) => {
      const { assertion } = ctx.oidc.params;
      if (typeof assertion !== "string" || assertion === "") {
        throw new errors.InvalidRequest("missing required parameter 'assertion'");
      }
      await verifyWorkloadJwt(assertion, options.trustedIssuers);
      ctx.body = await mintAccessToken(ctx, options);
    },
    ["assertion", "audience", "scope"],
  );
}
