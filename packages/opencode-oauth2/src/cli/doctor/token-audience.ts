import {
  loginCommand,
  type ProviderConfig,
  peekJwtClaims,
  type ReadResult,
} from "@vymalo/oauth2-core";
import { type Finding, ok, warn } from "./finding.js";

const CHECK = "audience";
const quoted = (values: readonly string[]) => values.map((v) => `"${v}"`).join(", ");

/**
 * With `audience`/`resource` configured: is the cached access token for it? Some IdPs ignore
 * the `audience` parameter and issue tokens for another audience, which a resource server that
 * checks `aud` refuses. Read from the token file without verifying (the IdP signed it; doctor
 * only reads its `aud`), and never shown.
 */
export function checkAudience(provider: ProviderConfig, read: ReadResult): Finding[] {
  const wanted = [...(provider.audience ? [provider.audience] : []), ...(provider.resource ?? [])];
  if (wanted.length === 0 || read.kind !== "ok") return [];
  const claims = peekJwtClaims(read.token.accessToken);
  if (!claims) {
    return [
      ok(
        CHECK,
        "the cached access token is opaque: only the resource server can read its audience",
      ),
    ];
  }
  const aud =
    typeof claims.aud === "string" ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  const has = aud.filter((a): a is string => typeof a === "string");
  const missing = wanted.filter((w) => !has.includes(w));
  if (missing.length === 0) {
    return [
      ok(
        CHECK,
        `the cached access token is for ${quoted(wanted)}, the configured ${wanted.length > 1 ? "audiences" : "audience"}`,
      ),
    ];
  }
  const next = provider.loginFlow
    ? `log in again: ${loginCommand(provider.id)}`
    : `drop the cached token: opencode-oauth2 logout ${provider.id}`;
  return [
    warn(
      CHECK,
      `the cached access token is ${has.length ? `for ${quoted(has)} (its aud)` : "without an aud claim"}, not for ${quoted(missing)}: a resource server that checks the audience refuses it.`,
      `make the IdP issue tokens for ${quoted(missing)} to this client (an audience mapper, an API permission or a resource registered at the IdP; docs/idps/), then ${next}`,
    ),
  ];
}
