import type * as client from "openid-client";
import type { ProviderConfig, ResolvedClient } from "../config/schema.js";
import { clientConfiguration } from "../oidc/configuration.js";
import { toOAuth2Error } from "../oidc/protocol-errors.js";
import type { EngineContext } from "./context.js";

/** An openid-client Configuration; a discovery failure is logged once here. */
export async function configurationFor(
  ctx: EngineContext,
  provider: ProviderConfig,
  which: ResolvedClient,
): Promise<client.Configuration> {
  try {
    return await clientConfiguration(provider, which, ctx.fetch, ctx.logger, ctx.env);
  } catch (err) {
    const error = toOAuth2Error(err, "discovery", provider.id);
    // The client's key or federated token is not discovery's: the flow's own event reports it.
    if (error.code !== "client_key_invalid" && error.code !== "subject_token_unavailable") {
      ctx.logger.emit("oauth2_discovery_failed", {
        issuer: provider.issuer,
        ...error.toLogFields(),
      });
    }
    throw error;
  }
}
