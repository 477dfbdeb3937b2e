import type { Hooks, Plugin } from "@opencode-ai/plugin";
import {
  collectManagedProviders,
  createLogger,
  isInteractiveFlow,
  type ProviderConfig,
  pluginLogLevel,
  TokenEngine,
} from "@vymalo/oauth2-core";
import { authMethods } from "./auth-methods.js";
import { bearerFetch } from "./bearer-fetch.js";
import { PLACEHOLDER_API_KEY } from "./constants.js";
import { PLUGIN_EVENTS } from "./events.js";
import { opencodeSink } from "./opencode-log.js";
import { propagateBearers } from "./propagate.js";

/**
 * The opencode-oauth2 plugin. Hooks only; all OAuth work is in @vymalo/oauth2-core.
 * - `config`: collect managed providers (both config shapes), refusing what only a remote layer
 *   (a `.well-known/opencode` manifest) sets and may not; then ensure every token at once and
 *   install `options.fetch`: a fresh token on every request to the provider, also for providers
 *   that came from `.well-known/opencode` (auth.json has no entry for them, so no auth loader
 *   runs). That fetch is the one per-request path; no `chat.headers` hook repeats its work.
 * - `auth`: browser and device-code logins in `opencode auth login`.
 */
export const OAuth2Plugin: Plugin = async (input, options) => {
  const logger = createLogger({
    sink: opencodeSink(input.client),
    level: pluginLogLevel(options?.logLevel),
    events: PLUGIN_EVENTS,
  });
  const engine = new TokenEngine({ logger });
  let providers: Record<string, ProviderConfig> = {};

  /** The provider `opencode auth login` offers our methods for. */
  const loginProvider = (): ProviderConfig | undefined => {
    const wanted = typeof options?.loginProvider === "string" ? options.loginProvider : undefined;
    const all = Object.values(providers);
    return (
      (wanted ? providers[wanted] : undefined) ??
      all.find((p) => isInteractiveFlow(p.authFlow)) ??
      all[0]
    );
  };

  const hooks: Hooks = {
    config: async (config) => {
      const collected = await collectManagedProviders(config, options, { cwd: input.directory });
      for (const issue of collected.issues) {
        logger.emit("oauth2_config_invalid", {
          provider: issue.providerId,
          field: issue.field,
          location: issue.location,
          expected: issue.expected,
          fix: issue.fix,
          message: issue.message,
        });
      }
      providers = collected.providers;
      logger.emit("oauth2_plugin_loaded", { providers: Object.keys(providers) });
      await propagateBearers({ config, providers, engine, logger });
    },
    auth: {
      get provider() {
        return loginProvider()?.id ?? "opencode-oauth2";
      },
      loader: async () => {
        const provider = loginProvider();
        if (!provider) return {};
        return { apiKey: PLACEHOLDER_API_KEY, fetch: bearerFetch({ engine, provider, logger }) };
      },
      methods: authMethods(loginProvider, engine, logger),
    },
  };
  return hooks;
};
