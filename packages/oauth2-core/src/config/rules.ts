/**
 * Rules shared by every config schema of the project (the provider's oauth2 block, the
 * gateway's config, the models-info options), whichever zod flavour writes the schema.
 */

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]", "::1"]);

/**
 * Plain http is only acceptable on the loopback interface (tests, the demo, local IdPs):
 * 127.0.0.0/8, ::1 and localhost. The URL parser has already turned `127.1` or `0x7f.1` into
 * dotted decimal.
 */
export function isLoopbackHttp(url: string): boolean {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname;
    return (
      parsed.protocol === "http:" &&
      (LOOPBACK_HOSTS.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))
    );
  } catch {
    return false;
  }
}

/** An https URL, or plain http on loopback: what an issuer, an endpoint or a public URL may be. */
export const isSecureUrl = (value: string): boolean =>
  value.startsWith("https://") || isLoopbackHttp(value);

export const SECURE_URL_ERROR =
  "expected an https:// URL (plain http is only allowed on loopback: 127.0.0.0/8, ::1, localhost)";

/** A list given as an array or as a space/comma separated string: trimmed, de-duplicated. */
export function splitList(value: string | string[]): string[] {
  const list = typeof value === "string" ? value.split(/[\s,]+/) : value;
  return [...new Set(list.map((s) => s.trim()).filter(Boolean))];
}

/**
 * Asymmetric JWS algorithms: signatures a public key verifies. What a client assertion may be
 * signed with, and what a verifier may accept; HS* (a shared secret) and `none` are never in it.
 * `Ed25519` is the fully-specified name (RFC 9864) of what `EdDSA` names for Ed25519 keys.
 */
export const ASYMMETRIC_JWS_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;
