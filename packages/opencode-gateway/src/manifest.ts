import ownPackage from "@vymalo/opencode-gateway/package.json" with { type: "json" };
import modelsInfoPackage from "@vymalo/opencode-models-info/package.json" with { type: "json" };
import oauth2Package from "@vymalo/opencode-oauth2/package.json" with { type: "json" };
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

export const OAUTH2_PACKAGE = oauth2Package.name;
export const MODELS_INFO_PACKAGE = modelsInfoPackage.name;

/** This package's version, inlined by the build. */
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
  // Pinned to the plugin packages this gateway was built with (their package.json, inlined by
  // scripts/build-package.mjs): each is released on its own, so the gateway's own version may be
  // one no plugin was ever published at.
  const pinned = (pkg: { name: string; version: string }) =>
    `${pkg.name}@${opts.pluginVersion ?? pkg.version}`;
  const env = opts.env ?? defaultAuthEnv(providerId);
  const prefix = opts.command ?? ["npx", "-y", pinned(oauth2Package)];
  const plugins = opts.plugins ?? [pinned(oauth2Package), pinned(modelsInfoPackage)];
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
