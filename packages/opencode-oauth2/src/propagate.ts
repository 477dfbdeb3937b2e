import type { Config } from "@opencode-ai/plugin";
import { isOAuth2Error, type ProviderConfig, type TokenEngine } from "@vymalo/oauth2-core";
import { bearerFetch } from "./bearer-fetch.js";
import { PLACEHOLDER_API_KEY } from "./constants.js";
import type { PluginEvent, PluginLogger } from "./events.js";

export type PropagationOutcome =
  | "propagated"
  | "skipped_header_present"
  | "skipped_login_required"
  | "skipped_idp_unreachable"
  | "skipped_idp_error"
  | "skipped_timeout"
  | "skipped_error";

/** The event each outcome is logged as (docs/log-events.md). */
const OUTCOME_EVENT: Record<PropagationOutcome, PluginEvent> = {
  propagated: "oauth2_bearer_propagated",
  skipped_header_present: "oauth2_bearer_propagation_skipped_header_present",
  skipped_login_required: "oauth2_bearer_propagation_skipped_login_required",
  skipped_idp_unreachable: "oauth2_bearer_propagation_skipped_idp_unreachable",
  skipped_idp_error: "oauth2_bearer_propagation_skipped_idp_error",
  skipped_timeout: "oauth2_bearer_propagation_skipped_timeout",
  skipped_error: "oauth2_bearer_propagation_skipped_error",
};

type ProviderEntry = { options?: Record<string, unknown> } & Record<string, unknown>;

const TIMED_OUT = Symbol("timed out");

/** `config.provider.<id>.options`, created when missing (plugin-options-only providers). */
function providerOptions(config: Config, id: string): Record<string, unknown> {
  config.provider = config.provider ?? {};
  const providers = config.provider as Record<string, ProviderEntry>;
  const entry: ProviderEntry = providers[id] ?? {};
  providers[id] = entry;
  entry.options = entry.options ?? {};
  return entry.options;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function hasAuthorization(headers: unknown): boolean {
  return (
    typeof headers === "object" &&
    headers !== null &&
    Object.keys(headers).some((k) => k.toLowerCase() === "authorization")
  );
}

/**
 * Config-time propagation for every managed provider at once (`Promise.all`): give opencode a
 * placeholder key so it never asks for one, install the per-request bearer fetch, and ensure a
 * token now (from the cache, by refresh or by the headless flow) so the first request finds it
 * ready and the log says at start whether it will work. The token itself is never written into
 * the config: `opencode serve` returns provider options from `GET /config`, `/config/providers`
 * and `/provider`, so anything put there is readable by whoever reaches the server. The fetch
 * sets the header on each request instead. Each provider is bounded by its `httpTimeoutMs`, so a
 * down or slow IdP never holds opencode's start beyond it. Never opens a browser.
 */
export async function propagateBearers(input: {
  config: Config;
  providers: Record<string, ProviderConfig>;
  engine: TokenEngine;
  logger: PluginLogger;
}): Promise<Record<string, PropagationOutcome>> {
  const { config, engine, logger } = input;
  const entries = Object.values(input.providers).map(
    async (provider): Promise<[string, PropagationOutcome]> => {
      const options = providerOptions(config, provider.id);
      const emit = (
        outcome: PropagationOutcome,
        fields: Record<string, unknown> = {},
      ): [string, PropagationOutcome] => {
        logger.emit(OUTCOME_EVENT[outcome], { provider: provider.id, ...fields });
        return [provider.id, outcome];
      };
      if (hasAuthorization(options.headers)) return emit("skipped_header_present");
      options.apiKey ??= PLACEHOLDER_API_KEY;
      options.fetch = bearerFetch({ engine, provider, logger });

      try {
        const result = await within(
          engine.ensureAccessToken(provider, { interactive: false }),
          provider.httpTimeoutMs,
        );
        if (result === TIMED_OUT) {
          return emit("skipped_timeout", {
            timeoutMs: provider.httpTimeoutMs,
            issuer: provider.issuer,
          });
        }
        if (result.status === "login_required") {
          return emit("skipped_login_required", { reason: result.reason, command: result.command });
        }
        return emit("propagated", { source: result.source, expiresAt: result.expiresAt });
      } catch (err) {
        if (!isOAuth2Error(err)) return emit("skipped_error", { detail: String(err) });
        if (err.code === "idp_unreachable")
          return emit("skipped_idp_unreachable", err.toLogFields());
        if (
          err.code === "idp_error" ||
          err.code === "idp_bad_response" ||
          err.code === "discovery_failed"
        ) {
          return emit("skipped_idp_error", err.toLogFields());
        }
        return emit("skipped_error", err.toLogFields());
      }
    },
  );
  return Object.fromEntries(await Promise.all(entries));
}
