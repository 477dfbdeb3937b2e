import {
  type AuthFlow,
  isInteractiveFlow,
  type ProviderConfig,
  type ReadResult,
} from "@vymalo/oauth2-core";
import type { ServerMetadata } from "openid-client";
import { type Finding, ok } from "./finding.js";

const CHECK = "id token";

/**
 * An id_token encrypted to a key this client never registered (a JWE) cannot be read, and the
 * login fails right after the user approved it. Whether the IdP encrypts for this client is a
 * per-client setting no metadata shows; discovery only says whether it can
 * (`id_token_encryption_alg_values_supported`, which e.g. Keycloak always lists). A login that
 * succeeded proves it does not. So this says what is known, and is never a warning by itself.
 */
export function checkIdTokenEncryption(
  provider: ProviderConfig,
  flows: AuthFlow[],
  meta: ServerMetadata,
  read: ReadResult,
): Finding[] {
  const algs = meta.id_token_encryption_alg_values_supported;
  if (!flows.some(isInteractiveFlow) || !provider.scopes.includes("openid")) return [];
  if (!Array.isArray(algs) || algs.length === 0) return [];
  const idToken = read.kind === "ok" ? read.token.idToken : undefined;
  if (idToken?.split(".").length === 3) {
    return [
      ok(
        CHECK,
        "the IdP can encrypt id_tokens, but not for this client: the cached login's id_token is signed, not encrypted",
      ),
    ];
  }
  return [
    ok(
      CHECK,
      "the IdP can encrypt id_tokens (id_token_encryption_alg_values_supported), which this client cannot read: keep ID token encryption off for this client (authentik: no Encryption Key); doctor sees whether it is on only after a login",
    ),
  ];
}
