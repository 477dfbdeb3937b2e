import ownPackage from "@vymalo/opencode-gateway/package.json" with { type: "json" };
import type { GatewayConfig } from "./config.js";

/**
 * `GET /.well-known/opencode`: what `opencode auth login <publicUrl>` reads. Generated from the
 * gateway's own config, so the issuer, client id and models are written once.
 *
 * The placeholder-key pattern: opencode runs `auth.command` (argv, no shell). The command logs
 * the user in — the token goes to the opencode-oauth2 plugin's shared cache — and prints only a
 * placeholder key on stdout. opencode stores that placeholder in auth.json and substitutes it
 * for `{env:<auth.env>}` in `config`; the plugin replaces it with a real, fresh token on every
 * request. opencode merges `config` as its lowest config layer at every start.
 */

export const OAUTH2_PACKAGE = "@vymalo/opencode-oauth2";
export const MODELS_INFO_PACKAGE = "@vymalo/opencode-models-info";

/** This package's version, inlined by the build (scripts/build-package.mjs). */
export function gatewayVersion(): string {
  return ownPackage.version;
}

/** `auth.env` when not configured: OPENCODE_<PROVIDERID>_KEY. */
export const defaultAuthEnv = (providerId: string) =>
  `OPENCODE_${providerId.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_KEY`;

export interface Manifest {
  auth: { command: string[]; env: string };
  config: Record<string, unknown>;
}

export function buildManifest(config: GatewayConfig): Manifest {
  const { manifest: opts, providerId, publicUrl } = config;
  const version = opts.pluginVersion ?? gatewayVersion();
  const env = opts.env ?? defaultAuthEnv(providerId);
  const prefix = opts.command ?? ["npx", "-y", `${OAUTH2_PACKAGE}@${version}`];
  const plugins = opts.plugins ?? [
    `${OAUTH2_PACKAGE}@${version}`,
    `${MODELS_INFO_PACKAGE}@${version}`,
  ];
  const models = Object.fromEntries(
    config.models.map((model) => [model.id, { name: model.name ?? model.id }]),
  );
  return {
    auth: {
      command: [...prefix, "login", providerId, "--well-known", publicUrl, "--print-key"],
      env,
    },
    config: {
      ...(opts.configSchema ? { $schema: opts.configSchema } : {}),
      provider: {
        [providerId]: {
          npm: "@ai-sdk/openai-compatible",
          name: config.providerName,
          options: {
            baseURL: `${publicUrl}/v1`,
            apiKey: `{env:${env}}`,
            oauth2: config.oauth2,
            meta: { modelsInfoUrl: `${publicUrl}/v1/models-info` },
          },
          models,
        },
      },
      plugin: plugins,
    },
  };
}
