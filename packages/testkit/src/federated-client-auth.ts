import type { ClientMetadata } from "oidc-provider";
import { confidentialClient } from "./clients.js";
import { isRoute, type KitMiddleware, oauthError, readForm, rewriteForm } from "./middleware.js";
import type { RequestLog } from "./request-log.js";
import { type TrustedIssuer, verifyWorkloadJwt } from "./workload-issuer.js";

/**
 * Workload identity federation as Entra ID does it: a client with no secret of its own
 * presents a workload token (a GitHub Actions job's OIDC token) as its `client_assertion`, and
 * the IdP accepts it when its issuer, subject and audience match a "federated credential" of
 * that client. oidc-provider has no such thing, so this quirk checks the assertion in front of
 * it and, when it matches, hands the OP the client's own secret instead (the OP's client is a
 * client_secret_post one only the kit knows).
 */
export interface FederatedCredential {
  clientId: string;
  /** The trusted issuer, with the `aud` its tokens must carry for this client. */
  issuer: TrustedIssuer;
  /** The `sub` the token must have, e.g. `repo:octo-org/octo-repo:ref:refs/heads/main`. */
  subject: string;
}

const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** Entra's words for an assertion no federated credential matches. */
export const NO_FEDERATED_MATCH =
  "AADSTS70021: No matching federated identity record found for presented assertion.";

/** The secret the OP knows such a client by; never presented by the client under test. */
const innerSecret = (clientId: string) => `federated-${clientId}-inner-secret`;

/** The OP's side of a federated client: register it next to `federatedClientAssertions`. */
export const federatedClient = (clientId: string, extra: Partial<ClientMetadata> = {}) =>
  confidentialClient(clientId, innerSecret(clientId), {
    token_endpoint_auth_method: "client_secret_post",
    ...extra,
  });

export function federatedClientAssertions(
  tokenPath: string,
  credentials: readonly FederatedCredential[],
  log: RequestLog,
): KitMiddleware {
  return async (ctx, next) => {
    if (isRoute(ctx, "POST", tokenPath)) {
      const form = await readForm(ctx);
      const credential = credentials.find((c) => c.clientId === form.get("client_id"));
      const assertion = form.get("client_assertion");
      if (credential && assertion && form.get("client_assertion_type") === JWT_BEARER_ASSERTION) {
        let subject: unknown;
        try {
          subject = (await verifyWorkloadJwt(assertion, [credential.issuer])).sub;
        } catch {
          subject = undefined;
        }
        if (subject !== credential.subject) {
          log.recordError(
            "invalid_client",
            NO_FEDERATED_MATCH,
            form.get("grant_type") ?? undefined,
          );
          oauthError(ctx, 401, "invalid_client", NO_FEDERATED_MATCH);
          return;
        }
        form.delete("client_assertion");
        form.delete("client_assertion_type");
        form.set("client_secret", innerSecret(credential.clientId));
        rewriteForm(ctx, form);
      }
    }
    await next();
  };
}
