import type { ClientMetadata, Configuration, ResourceServer } from "oidc-provider";
import { errors } from "oidc-provider";
import type { FederatedCredential } from "./federated-client-auth.js";
import type { IdpHttpsOptions } from "./idp-tls.js";
import { mtlsConfiguration } from "./idp-tls.js";
import { signingJwks } from "./keys.js";
import { memoryAdapterFactory } from "./memory-store.js";
import type { IdpQuirks } from "./quirks.js";
import type { TrustedIssuer } from "./workload-issuer.js";

export interface IdpOptions {
  /** Statically registered clients (see `publicNativeClient` / `confidentialClient`). */
  clients?: ClientMetadata[];
  /** Force (true) or forbid requiring (false) PKCE; unset keeps oidc-provider's default
   * (required for public clients), except that `quirks.rejectPkce` implies false. */
  pkceRequired?: boolean;
  /** Access token lifetime in seconds (default 300), also for client credentials. */
  accessTokenTtl?: number;
  /** Refresh token lifetime in seconds (default 14 days, fixed: a rotated token gets a
   * full lifetime again, unlike oidc-provider's default policy for public clients). */
  refreshTokenTtl?: number;
  /** Rotate refresh tokens on every use (default true). */
  rotateRefreshToken?: boolean;
  /** Resource indicator and `aud` of every access token (default "urn:test:api"). */
  audience?: string;
  /** Extra scopes besides openid/offline_access/profile/email (default api:read api:write). */
  scopes?: string[];
  /** Scope added to authorization/device requests that carry none (default "openid");
   * null keeps oidc-provider's behaviour (such requests end in access_denied). */
  defaultScope?: string | null;
  /** Device code lifetime (`expires_in` of the device authorization), seconds (default 600). */
  deviceCodeTtl?: number;
  /** `interval` injected into device authorization responses, seconds (default 1). */
  deviceInterval?: number;
  /** Subject tokens accepted by the token-exchange grant (default none). */
  acceptedSubjectTokens?: string[];
  /** Workload token issuers whose JWTs the jwt-bearer and token-exchange grants accept. */
  trustedIssuers?: TrustedIssuer[];
  /** Clients that authenticate with a federated workload token (see federated-client-auth.ts);
   * register each with `federatedClient(id)`. */
  federatedCredentials?: FederatedCredential[];
  /** Emulated behaviours of other IdPs. */
  quirks?: IdpQuirks;
  /** Delay every token endpoint response by this many ms (default 0). */
  tokenDelayMs?: number;
  /** oidc-provider's encryption feature: discovery advertises id_token encryption (as Keycloak's
   * does); only clients that register an encryption key get encrypted id_tokens. */
  idTokenEncryption?: boolean;
  /** Serve over https with a test CA's certificate, asking for client certificates (RFC 8705
   * client auth and certificate-bound tokens are then enabled). */
  https?: IdpHttpsOptions;
}

const OIDC_SCOPES = ["openid", "offline_access", "profile", "email"];

const FOURTEEN_DAYS = 14 * 24 * 60 * 60;

export const DEFAULT_AUDIENCE = "urn:test:api";

/** What the resource server (the kit's single audience) looks like to oidc-provider. */
export function resourceServerInfo(options: IdpOptions): ResourceServer {
  return {
    scope: allScopes(options).join(" "),
    audience: options.audience ?? DEFAULT_AUDIENCE,
    accessTokenFormat: "jwt",
    accessTokenTTL: options.accessTokenTtl ?? 300,
  };
}

export function allScopes(options: IdpOptions): string[] {
  return [...new Set([...OIDC_SCOPES, ...(options.scopes ?? ["api:read", "api:write"])])];
}

function pkceRequired(options: IdpOptions): boolean | undefined {
  if (options.pkceRequired !== undefined) return options.pkceRequired;
  return options.quirks?.rejectPkce ? false : undefined;
}

/** The oidc-provider configuration for `startIdp`. */
export async function buildConfiguration(options: IdpOptions): Promise<Configuration> {
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const info = resourceServerInfo(options);
  const accessTokenTtl = info.accessTokenTTL ?? 300;
  const required = pkceRequired(options);
  const rotate = options.rotateRefreshToken ?? true;
  const mtls = options.https ? mtlsConfiguration() : undefined;

  return {
    clients: options.clients ?? [],
    ...(mtls ? { clientAuthMethods: mtls.clientAuthMethods } : {}),
    adapter: memoryAdapterFactory(),
    jwks: await signingJwks(),
    scopes: allScopes(options),
    claims: {
      openid: ["sub"],
      profile: ["name", "preferred_username"],
      email: ["email", "email_verified"],
    },
    // Any login is a valid account; its id is the `sub`.
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({
        sub,
        name: sub,
        preferred_username: sub,
        email: `${sub}@example.test`,
        email_verified: true,
      }),
    }),
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      encryption: { enabled: options.idTokenEncryption === true },
      ...(mtls ? { mTLS: mtls.mTLS } : {}),
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (resourceIndicator !== audience) throw new errors.InvalidTarget();
          return info;
        },
      },
    },
    ...(required === undefined ? {} : { pkce: { required: () => required } }),
    // A refresh token for every code/device grant of a client allowed to refresh, without
    // needing offline_access + prompt=consent (oidc-provider's default policy).
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    // Tokens outlive the test browser's session, like most real IdPs.
    expiresWithSession: () => false,
    rotateRefreshToken: rotate,
    // Every TTL is set explicitly (oidc-provider prints a NOTICE per defaulted TTL function).
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: options.deviceCodeTtl ?? 600,
      IdToken: 3600,
      Interaction: 3600,
      Grant: FOURTEEN_DAYS,
      Session: FOURTEEN_DAYS,
      RefreshToken: options.refreshTokenTtl ?? FOURTEEN_DAYS,
    },
  };
}
