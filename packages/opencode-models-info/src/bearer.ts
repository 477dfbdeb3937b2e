import { isOAuth2Error, type ProviderConfig, type TokenEngine } from "@vymalo/oauth2-core";
import { modelsInfoError } from "./errors.js";
import type { ModelsInfoLogger } from "./events.js";
import type { BearerSource } from "./fetch.js";

/**
 * The bearer of an oauth2-managed provider, from the shared token engine: the same token (and
 * token cache) the model requests use. Never prompts: without a token it is `login_required`.
 * The engine is asked at most once per renewal, however many requests share this source, so
 * `models_info_login_required` is logged once per provider.
 */
export function engineBearer(
  engine: TokenEngine,
  provider: ProviderConfig,
  logger: ModelsInfoLogger,
): BearerSource {
  const ensure = async (): Promise<string> => {
    let result: Awaited<ReturnType<TokenEngine["ensureAccessToken"]>>;
    try {
      result = await engine.ensureAccessToken(provider, { interactive: false });
    } catch (err) {
      const detail = isOAuth2Error(err) ? err.detail : String(err);
      throw modelsInfoError("token_unavailable", `no token for "${provider.id}": ${detail}`, {
        cause: err,
        ...(isOAuth2Error(err) ? { fix: err.fix } : {}),
      });
    }
    if (result.status === "ok") return result.accessToken;
    logger.emit("models_info_login_required", {
      provider: provider.id,
      reason: result.reason,
      command: result.command,
    });
    throw modelsInfoError("login_required", result.message, { fix: `run \`${result.command}\`` });
  };
  let current: Promise<string> | undefined;
  // One renewal per rejected token, shared by every request that saw it rejected.
  const renewals = new Map<string, Promise<string>>();
  return {
    token: () => {
      current ??= ensure();
      return current;
    },
    renew: (rejected) => {
      let renewal = renewals.get(rejected);
      if (!renewal) {
        renewal = engine.invalidate(provider, rejected).then(ensure);
        renewals.set(rejected, renewal);
        current = renewal;
      }
      return renewal;
    },
  };
}

/** A bearer that can never be had (the provider's oauth2 block does not validate). */
export function unavailableBearer(providerId: string): BearerSource {
  const fail = () =>
    Promise.reject(
      modelsInfoError(
        "oauth2_config_invalid",
        `provider "${providerId}" is oauth2-managed but its oauth2 settings are invalid`,
      ),
    );
  return { token: fail, renew: fail };
}
