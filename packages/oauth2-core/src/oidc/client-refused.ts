import type { ResolvedClient } from "../config/schema.js";
import { endpointLabel, type IdpAnswer } from "../errors.js";

/** The client whose request was refused, as far as an error message needs it. */
export type RefusedClient = Pick<ResolvedClient, "clientId" | "authMethod">;

/**
 * Characters of a client id that RFC 6749 §2.3.1 form-encoding changes in HTTP Basic
 * credentials (openid-client encodes strictly: `-` → `%2D`, also `_ . ! ~ * ' ( )`). An IdP that
 * does not decode Basic credentials then looks up another client.
 */
export function basicEncodingChanges(clientId: string): string[] {
  const changed = new Set<string>();
  for (const ch of clientId) if (!/[A-Za-z0-9]/.test(ch)) changed.add(ch);
  return [...changed];
}

/** The other way of sending a client secret, to try when the IdP refuses one. */
export const OTHER_SECRET_METHOD = {
  client_secret_basic: "client_secret_post",
  client_secret_post: "client_secret_basic",
  // Many IdPs take only the plain methods; client_secret_basic is RFC 6749's default.
  client_secret_jwt: "client_secret_basic",
} as const;

/**
 * What to do when the IdP refused a confidential client: check the secret, else switch
 * `clientAuthMethod` to the other one — with the reason when the id is one Basic encoding
 * changes. A public client can only be unknown or not registered as public.
 */
export function refusedClientFix(client: RefusedClient | undefined): string {
  if (!client) {
    return 'check clientId and clientSecret, and try the other "clientAuthMethod" (client_secret_basic or client_secret_post)';
  }
  if (client.authMethod === "private_key_jwt") {
    return `check that the IdP has the public key of clientAssertion.keyFile registered for client "${client.clientId}" (its JWKS, or its certificate), with the same kid; that it accepts private_key_jwt and the assertion's alg; and the assertion's audience (clientAssertion.audience: "token_endpoint" or "issuer"). With clientAssertion.token: that a federated credential of the client matches the token's issuer, subject and audience`;
  }
  if (client.authMethod === "tls_client_auth") {
    return `check that the IdP registered client "${client.clientId}" for tls_client_auth with the subject (or SAN) of the certificate in tls.certFile, issued by a CA it trusts`;
  }
  if (client.authMethod === "self_signed_tls_client_auth") {
    return `check that the IdP has the certificate of tls.certFile registered for client "${client.clientId}" (in its JWKS, as x5c)`;
  }
  if (client.authMethod === "none") {
    return `check that the IdP knows client "${client.clientId}" and lets it use this grant without a secret (a public client: token endpoint authentication "none"); if the IdP registered it with a secret, set clientSecret`;
  }
  const other = OTHER_SECRET_METHOD[client.authMethod];
  let fix = `check clientSecret; if it is right, the IdP may not accept ${client.authMethod} for this client: set "clientAuthMethod": "${other}"`;
  const changed = basicEncodingChanges(client.clientId);
  if (client.authMethod === "client_secret_basic" && changed.length > 0) {
    const shown = changed.map((ch) => `"${ch}"`).join(", ");
    fix += ` (the client id "${client.clientId}" contains ${shown}, which RFC 6749 form-encoding of HTTP Basic credentials changes, e.g. "-" to "%2D"; IdPs that do not decode Basic credentials then see an unknown client)`;
  }
  return fix;
}

/** "the IdP refused the client "ci-bot" at the token endpoint (the client-credentials grant)." */
export function refusedClientMessage(
  client: RefusedClient | undefined,
  answer: IdpAnswer,
  label: string,
): string {
  const who = client ? `the client "${client.clientId}"` : "the client";
  const what =
    client?.authMethod === "private_key_jwt"
      ? "a key it does not know"
      : client?.authMethod === "tls_client_auth" ||
          client?.authMethod === "self_signed_tls_client_auth"
        ? "a client certificate it does not accept"
        : "wrong secret";
  return `the IdP refused ${who} at the ${endpointLabel(answer.endpoint)} (${label}), without an OAuth error: ${what}, or an authentication method it does not accept.`;
}
