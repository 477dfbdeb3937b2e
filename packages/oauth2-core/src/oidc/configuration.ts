import * as client from "openid-client";
import { isLoopbackHttp } from "../config/rules.js";
import type { ProviderConfig, ResolvedClient } from "../config/schema.js";
import { OAuth2Error } from "../errors.js";
import type { FetchLike } from "../fetch.js";
import { clientAssertionAuth } from "../flows/client-assertion.js";
import type { TokenSourceContext } from "../flows/token-source.js";
import type { CoreEvent, Logger } from "../log.js";
import { memoizeUntilRejected } from "../shared-promises.js";
import { outboundFetch } from "../transport/outbound.js";
import { capturingFetch } from "./idp-answer.js";
import { toOAuth2Error } from "./protocol-errors.js";

/**
 * Server metadata per issuer (and endpoint overrides), cached for the life of the process: a
 * second provider on the same IdP, or a second ensure, costs no discovery request. A failed
 * discovery is not cached.
 */
const metadataCache = new Map<string, Promise<client.ServerMetadata>>();

/** Forget every cached discovery document (tests, `doctor`). */
export function clearDiscoveryCache(): void {
  metadataCache.clear();
}

interface ClientAuthInput {
  provider: ProviderConfig;
  resolved: ResolvedClient;
  meta: client.ServerMetadata;
  sources: TokenSourceContext;
}

/**
 * The aud of a client assertion: the token endpoint, which every IdP accepts (Okta requires it;
 * oidc-provider, Keycloak and Entra ID also take it), else the issuer.
 */
const tokenEndpointAudience = (meta: client.ServerMetadata) => meta.token_endpoint ?? meta.issuer;

/**
 * How each `clientAuthMethod` authenticates, through openid-client's own client-auth functions:
 * the one table of them. A public client resolves to "none", so it never sends a secret.
 */
const CLIENT_AUTH: Record<
  ResolvedClient["authMethod"],
  (input: ClientAuthInput) => client.ClientAuth | Promise<client.ClientAuth>
> = {
  none: () => client.None(),
  client_secret_basic: ({ resolved }) => client.ClientSecretBasic(resolved.clientSecret),
  client_secret_post: ({ resolved }) => client.ClientSecretPost(resolved.clientSecret),
  // HS256 keyed with the secret; the secret itself never leaves the process.
  client_secret_jwt: ({ resolved, meta }) =>
    client.ClientSecretJwt(resolved.clientSecret, {
      [client.modifyAssertion]: (_header, payload) => {
        // openid-client names the issuer; the token endpoint is the aud every IdP accepts.
        payload.aud = tokenEndpointAudience(meta);
      },
    }),
  private_key_jwt: ({ provider, resolved, meta, sources }) => {
    if (!resolved.assertion) throw new Error("private_key_jwt without clientAssertion");
    return clientAssertionAuth(
      resolved.assertion,
      {
        providerId: provider.id,
        httpTimeoutMs: provider.httpTimeoutMs,
        issuer: meta.issuer,
        tokenEndpoint: meta.token_endpoint,
      },
      sources,
    );
  },
  // RFC 8705: the certificate the transport presents (tls.certFile) is the credential; the
  // body carries only client_id.
  tls_client_auth: () => client.TlsClientAuth(),
  self_signed_tls_client_auth: () => client.TlsClientAuth(),
};

function overrides(provider: ProviderConfig): Partial<client.ServerMetadata> {
  const e = provider.endpoints ?? {};
  const out: Record<string, string> = {};
  if (e.authorization) out.authorization_endpoint = e.authorization;
  if (e.token) out.token_endpoint = e.token;
  if (e.deviceAuthorization) out.device_authorization_endpoint = e.deviceAuthorization;
  if (e.revocation) out.revocation_endpoint = e.revocation;
  if (e.jwks) out.jwks_uri = e.jwks;
  if (e.userinfo) out.userinfo_endpoint = e.userinfo;
  return out as Partial<client.ServerMetadata>;
}

/**
 * What openid-client sends with for this provider: the one outbound transport (proxy, `tls.*`)
 * over the injected fetch, with unexpected answers kept for error messages.
 */
function providerFetch(
  provider: ProviderConfig,
  fetchImpl: FetchLike | undefined,
  logger: Logger<CoreEvent> | undefined,
): client.CustomFetch {
  const transport = outboundFetch({
    tls: provider.tls,
    base: fetchImpl,
    logger,
    providerId: provider.id,
  });
  return capturingFetch(transport) as client.CustomFetch;
}

async function discover(
  provider: ProviderConfig,
  fetchImpl: FetchLike | undefined,
  logger: Logger<CoreEvent> | undefined,
): Promise<client.ServerMetadata> {
  const options: client.DiscoveryRequestOptions = {
    timeout: Math.ceil(provider.httpTimeoutMs / 1000),
    execute: isLoopbackHttp(provider.issuer) ? [client.allowInsecureRequests] : [],
  };
  options[client.customFetch] = providerFetch(provider, fetchImpl, logger);
  try {
    const discovered = await client.discovery(
      new URL(provider.issuer),
      "discovery",
      undefined,
      undefined,
      options,
    );
    return { ...discovered.serverMetadata() };
  } catch (err) {
    const mapped = toOAuth2Error(err, "discovery", provider.id);
    const mismatch =
      err instanceof Error && /issuer/i.test(err.message) && mapped.code === "idp_bad_response";
    throw new OAuth2Error({
      code:
        mapped.code === "idp_unreachable" || mapped.code === "transport_failed"
          ? mapped.code
          : "discovery_failed",
      providerId: provider.id,
      message: mismatch
        ? `the discovery document at ${provider.issuer} names another issuer.`
        : `could not load the discovery document of ${provider.issuer} (${mapped.detail})`,
      fix: mismatch
        ? "set issuer exactly as the IdP's discovery document states it (scheme, host, port, path, trailing slash)"
        : mapped.fix,
      idp: mapped.idp,
      answer: mapped.answer,
      cause: err,
    });
  }
}

/** The server metadata for a provider: discovered once per process, or built from `endpoints`. */
export function serverMetadata(
  provider: ProviderConfig,
  fetchImpl?: FetchLike,
  logger?: Logger<CoreEvent>,
): Promise<client.ServerMetadata> {
  const extra = overrides(provider);
  const key = JSON.stringify([provider.issuer, extra]);
  return memoizeUntilRejected(metadataCache, key, () =>
    provider.endpoints?.token
      ? Promise.resolve({ issuer: provider.issuer, ...extra })
      : discover(provider, fetchImpl, logger).then((meta) => ({ ...meta, ...extra })),
  );
}

/**
 * An openid-client Configuration for one of the provider's clients. A public client gets
 * `None()` client authentication, so it never sends a secret; a confidential one always
 * authenticates with its secret.
 */
export async function clientConfiguration(
  provider: ProviderConfig,
  resolved: ResolvedClient,
  fetchImpl?: FetchLike,
  logger?: Logger<CoreEvent>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<client.Configuration> {
  const meta = await serverMetadata(provider, fetchImpl, logger);
  const config = new client.Configuration(
    meta,
    resolved.clientId,
    { token_endpoint_auth_method: resolved.authMethod },
    await CLIENT_AUTH[resolved.authMethod]({
      provider,
      resolved,
      meta,
      sources: { env, fetch: fetchImpl, logger },
    }),
  );
  config.timeout = Math.ceil(provider.httpTimeoutMs / 1000);
  if (isLoopbackHttp(provider.issuer)) client.allowInsecureRequests(config);
  config[client.customFetch] = providerFetch(provider, fetchImpl, logger);
  return config;
}
