import type { Hooks, Plugin } from "@opencode-ai/plugin";
import {
  collectManagedProviders,
  createLogger,
  type LocalConfigSource,
  type LogLevel,
  type LogSink,
  opencodeSink,
  type ProviderConfig,
  pluginLogLevel,
  TokenEngine,
} from "@vymalo/oauth2-core";
import { authMethods } from "./auth-methods.js";
import { bearerFetch } from "./bearer-fetch.js";
import { PLACEHOLDER_API_KEY } from "./constants.js";
import { PLUGIN_EVENTS, type PluginLogger, SERVICE } from "./events.js";
import { propagateBearers } from "./propagate.js";

/** What varies, injectable for tests; every field has a production default. */
export interface OAuth2PluginDeps {
  /** Where log records go. Default: opencode's `client.app.log`. */
  sink?: LogSink;
  /** Lowest level sent to the sink. Default: the `logLevel` plugin option, else pluginLogLevel(). */
  logLevel?: LogLevel;
  /** What this machine's own config says. Default: every local opencode config source. */
  localConfig?: LocalConfigSource;
  /** The token engine. Default: one over the shared cache, logging to the plugin's logger. */
  engine?: (logger: PluginLogger) => TokenEngine;
}

/**
 * Builds the opencode-oauth2 plugin. Hooks only; all OAuth work is in @vymalo/oauth2-core.
 * - `config`: collect managed providers (both config shapes), refusing what only a remote layer
 *   (a `.well-known/opencode` manifest) sets and may not; then ensure every token at once and
 *   install `options.fetch`: a fresh token on every request to the provider, also for providers
 *   that came from `.well-known/opencode` (auth.json has no entry for them, so no auth loader
 *   runs). That fetch is the one per-request path; no `chat.headers` hook repeats its work.
 * - `auth`: browser and device-code logins in `opencode auth login`.
 */
export function createOAuth2Plugin(deps: OAuth2PluginDeps = {}): Plugin {
  return async (input, options) => {
    const logger = createLogger({
      sink: deps.sink ?? opencodeSink(input.client, SERVICE),
      level: deps.logLevel ?? pluginLogLevel(options?.logLevel),
      events: PLUGIN_EVENTS,
    });
    const engine = deps.engine?.(logger) ?? new TokenEngine({ logger });
    let providers: Record<string, ProviderConfig> = {};

    /** The provider `opencode auth login` offers our methods for. */
    const loginProvider = (): ProviderConfig | undefined => {
      const wanted = typeof options?.loginProvider === "string" ? options.loginProvider : undefined;
      const all = Object.values(providers);
      return (wanted ? providers[wanted] : undefined) ?? all.find((p) => p.loginFlow) ?? all[0];
    };

    const hooks: Hooks = {
      config: async (config) => {
        const collected = await collectManagedProviders(config, options, {
          cwd: input.directory,
          localConfig: deps.localConfig,
        });
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
}

/** The plugin as opencode loads it. */
export const OAuth2Plugin: Plugin = createOAuth2Plugin();
