import { peekJwtClaims, type StoredToken } from "@vymalo/oauth2-core";

/**
 * Who a token belongs to, for people: preferred_username or email from the id_token claims
 * when present, else the subject. Read without verifying (display only); never the token itself.
 */
export function identityOf(token: StoredToken): string | undefined {
  const claims = peekJwtClaims(token.idToken) ?? {};
  const sub = token.subject ?? (typeof claims.sub === "string" ? claims.sub : undefined);
  const name = [claims.preferred_username, claims.email].find(
    (value): value is string => typeof value === "string" && value !== "",
  );
  if (name && sub && name !== sub) return `${name} (sub ${sub})`;
  return name ?? sub;
}
