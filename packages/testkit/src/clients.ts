import type { ClientMetadata } from "oidc-provider";

/** RFC 8693 grant type, registered by the kit on every IdP it starts. */
export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
/** RFC 7523 §2.1 grant type, registered by the kit on every IdP it starts. */
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** RFC 8628 grant type. */
export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/**
 * Loopback redirect URI registered on the helper clients. Both helpers register native
 * clients, and oidc-provider lets native clients use any port on a loopback redirect URI
 * (RFC 8252 §7.3), so `http://127.0.0.1:<any port>/callback` is accepted.
 */
export const LOOPBACK_REDIRECT_URI = "http://127.0.0.1/callback";

/**
 * A public native client (no secret): authorization code + refresh token + device code.
 * `extra` is merged last, so it can override anything.
 */
export function publicNativeClient(
  clientId: string,
  extra: Partial<ClientMetadata> = {},
): ClientMetadata {
  return {
    client_id: clientId,
    application_type: "native",
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code", "refresh_token", DEVICE_CODE_GRANT],
    response_types: ["code"],
    redirect_uris: [LOOPBACK_REDIRECT_URI],
    ...extra,
  };
}

/**
 * A confidential client authenticating with HTTP Basic (client_secret_basic):
 * client credentials + authorization code + refresh token + token exchange.
 *
 * It is registered as `application_type: "native"` so that its loopback redirect URI
 * accepts any port; oidc-provider v9 accepts a native client with a secret (checked by the
 * kit's tests), it only constrains native redirect URIs to loopback/custom schemes.
 */
export function confidentialClient(
  clientId: string,
  secret: string,
  extra: Partial<ClientMetadata> = {},
): ClientMetadata {
  return {
    client_id: clientId,
    client_secret: secret,
    application_type: "native",
    token_endpoint_auth_method: "client_secret_basic",
    grant_types: [
      "client_credentials",
      "authorization_code",
      "refresh_token",
      TOKEN_EXCHANGE_GRANT,
      JWT_BEARER_GRANT,
    ],
    response_types: ["code"],
    redirect_uris: [LOOPBACK_REDIRECT_URI],
    ...extra,
  };
}

/**
 * A confidential client that authenticates with private_key_jwt (RFC 7523 §2.2): the IdP knows
 * only its public `jwks`. Client credentials, refresh, token exchange and jwt-bearer.
 */
export function privateKeyJwtClient(
  clientId: string,
  jwks: { keys: object[] },
  extra: Partial<ClientMetadata> = {},
): ClientMetadata {
  return {
    client_id: clientId,
    application_type: "native",
    token_endpoint_auth_method: "private_key_jwt",
    jwks: jwks as ClientMetadata["jwks"],
    grant_types: ["client_credentials", "refresh_token", TOKEN_EXCHANGE_GRANT, JWT_BEARER_GRANT],
    response_types: [],
    redirect_uris: [],
    ...extra,
  };
}

/**
 * A confidential client that authenticates with client_secret_jwt (RFC 7523 §2.2, OpenID Connect
 * Core §9): an HS256 assertion keyed with its secret, which itself never crosses the wire.
 * Client credentials, refresh, token exchange and jwt-bearer.
 */
export function clientSecretJwtClient(
  clientId: string,
  secret: string,
  extra: Partial<ClientMetadata> = {},
): ClientMetadata {
  return confidentialClient(clientId, secret, {
    token_endpoint_auth_method: "client_secret_jwt",
    ...extra,
  });
}

/**
 * A client that authenticates with its certificate (tls_client_auth, RFC 8705 §2.1: the subject
 * of a certificate the IdP's CA verified) and whose access tokens are bound to it (§3,
 * `cnf.x5t#S256`). Only an IdP served over https (`startIdp({ https })`) sees certificates.
 */
export function certificateBoundClient(
  clientId: string,
  subject: string,
  extra: Partial<ClientMetadata> = {},
): ClientMetadata {
  return {
    client_id: clientId,
    token_endpoint_auth_method: "tls_client_auth",
    tls_client_auth_subject_dn: subject,
    tls_client_certificate_bound_access_tokens: true,
    grant_types: ["client_credentials"],
    response_types: [],
    redirect_uris: [],
    ...extra,
  };
}
