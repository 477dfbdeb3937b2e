import type { CollectedProviders, TlsFiles, TokenEngine } from "@vymalo/oauth2-core";
import { engineBearer, unavailableBearer } from "./bearer.js";
import type { Resource } from "./cache.js";
import { isModelsInfoError } from "./errors.js";
import type { ModelsInfoLogger } from "./events.js";
import type { BearerSource } from "./fetch.js";
import { DEFAULT_TIMEOUT_MS, type ModelsInfoOptions, resolveUrl, sendsToken } from "./options.js";

/**
 * What one provider's fetches may use: its URLs resolved against its baseURL, its deadline,
 * and its token — only when the oauth2 plugin manages the provider (or should, and is
 * misconfigured: then the fetch fails with the reason) and the auth mode lets it go there.
 */
export interface ProviderAccess {
  timeoutMs: number;
  /** The provider's `tls` block (a private CA, a client certificate), for its fetches too. */
  tls: TlsFiles | undefined;
  /** The absolute URL, or undefined (logged) when the reference does not resolve. */
  resolve(ref: string, resource: Resource): string | undefined;
  /** The token to send to `target`, or undefined when none may go there. */
  bearerFor(target: string, resource: Resource): BearerSource | undefined;
}

export interface AccessInput {
  id: string;
  baseURL: unknown;
  options: ModelsInfoOptions;
  collected: CollectedProviders;
  engine: TokenEngine;
  logger: ModelsInfoLogger;
}

export function providerAccess({
  id,
  baseURL,
  options,
  collected,
  engine,
  logger,
}: AccessInput): ProviderAccess {
  // Own keys only: a provider named "constructor" or "toString" is not an inherited member.
  const managed = Object.hasOwn(collected.providers, id) ? collected.providers[id] : undefined;
  const misconfigured = !managed && collected.issues.some((issue) => issue.providerId === id);
  // One token source per provider, shared by its document and model-list fetches.
  let shared: BearerSource | undefined;
  return {
    timeoutMs: options.modelsInfoTimeoutMs ?? managed?.httpTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    tls: managed?.tls,
    resolve(ref, resource) {
      try {
        return resolveUrl(ref, baseURL);
      } catch (err) {
        if (!isModelsInfoError(err)) throw err;
        logger.emit("models_info_url_invalid", { provider: id, resource, ...err.toLogFields() });
        return undefined;
      }
    },
    bearerFor(target, resource) {
      if (!managed && !misconfigured) return undefined;
      if (!sendsToken(options.modelsInfoAuth, target, baseURL)) {
        logger.emit("models_info_token_withheld", { provider: id, resource, url: target });
        return undefined;
      }
      shared ??= managed ? engineBearer(engine, managed, logger) : unavailableBearer(id);
      return shared;
    },
  };
}
