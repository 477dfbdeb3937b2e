/**
 * Checks jose does not make: that a validly signed token is an access token — not an OIDC ID
 * token, not a JWT of another type (logout, DPoP proof, security event) — and that it was not
 * issued in the future.
 *
 * `typ` (RFC 9068): `at+jwt` says "access token" outright. Keycloak, Entra ID, Okta and Auth0
 * (by default) send `JWT` or no `typ` at all, so those are accepted unless `requireAtJwt` is
 * set; any other `typ` is refused. Whatever the `typ`, a token with an ID token's marks is
 * refused: `at_hash`/`c_hash`/`s_hash`, Keycloak's `typ: "ID"` claim, a `nonce` (except in a
 * Keycloak access token, `typ: "Bearer"`, which carried one up to Keycloak 24), or an `aud`
 * that names the token's own client — OIDC Core §2 makes an ID token's `aud` its client id;
 * an access token is meant for an API.
 */

const AT_JWT = /^(application\/)?at\+jwt$/i;
const PLAIN_JWT = /^(application\/)?jwt$/i;
const ID_TOKEN_HASHES = ["at_hash", "c_hash", "s_hash"];

/** A refusal's stable reason code and its description (verify-token.ts answers 401). */
type Problem = { reason: string; description: string };
type Claims = Record<string, unknown>;

export function checkTokenType(typ: unknown, requireAtJwt: boolean): Problem | null {
  if (typeof typ === "string" && AT_JWT.test(typ)) return null;
  const plain = typ === undefined || (typeof typ === "string" && PLAIN_JWT.test(typ));
  if (plain && !requireAtJwt) return null;
  return {
    reason: "wrong_token_type",
    description: requireAtJwt
      ? "only RFC 9068 access tokens (typ at+jwt) are accepted here"
      : "the token's type (typ) is not an access token's",
  };
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

export function checkNotIdToken(claims: Claims, clientClaims: readonly string[]): Problem | null {
  const client = clientClaims.map((name) => claims[name]).find((v) => typeof v === "string");
  const marked =
    ID_TOKEN_HASHES.some((name) => claims[name] !== undefined) ||
    claims.typ === "ID" ||
    (claims.nonce !== undefined && claims.typ !== "Bearer") ||
    (client !== undefined && asList(claims.aud).includes(client));
  return marked
    ? { reason: "id_token", description: "this is an ID token: send an access token" }
    : null;
}

export function checkIssuedAt(iat: unknown, nowSec: number, toleranceSec: number): Problem | null {
  return typeof iat === "number" && iat - toleranceSec > nowSec
    ? { reason: "issued_in_future", description: "the token was issued in the future (iat)" }
    : null;
}
