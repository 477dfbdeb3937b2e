import { ProviderOAuth2Schema, parseWithMessages } from "@vymalo/oauth2-core";
import type { z } from "zod";

/**
 * The login settings the manifest publishes (`provider.<id>.options.oauth2`): opencode-oauth2's
 * own provider schema (from @vymalo/oauth2-core, the one definition of those fields), limited to
 * what may be public — a public client and an interactive flow, never a secret — with the
 * gateway's `issuer` added, so the issuer is written once.
 */

/** The `authFlow`s a person can log in with; the manifest is for people, not machines. */
const PUBLISHABLE_FLOWS = ["authorization_code", "device_code"];

/** oauth2-core fields the manifest may publish. A secret or a machine grant never goes there. */
const PUBLISHABLE_OAUTH2_FIELDS = new Set([
  "clientId",
  "scopes",
  "authFlow",
  "pkce",
  "audience",
  "resource",
  "redirectPort",
  "redirectPath",
  "endpoints",
  "authorizationParams",
  "httpTimeoutMs",
  "tokenExpirySkewMs",
  "loginTimeoutMs",
]);

/** Adds an issue (under `oauth2.…`) for everything that cannot or may not be published. */
export function checkPublishedOAuth2(
  issuer: string,
  oauth2: Record<string, unknown>,
  ctx: z.RefinementCtx,
): void {
  for (const key of Object.keys(oauth2)) {
    if (PUBLISHABLE_OAUTH2_FIELDS.has(key)) continue;
    const why =
      key === "issuer"
        ? "the top-level `issuer` is published; remove oauth2.issuer"
        : key === "clientSecret"
          ? "the manifest is public: never publish a secret; publish a public client"
          : `"${key}" cannot be published (allowed: ${[...PUBLISHABLE_OAUTH2_FIELDS].join(", ")})`;
    ctx.addIssue({ code: "custom", path: ["oauth2", key], message: why });
  }
  const flow = oauth2.authFlow;
  if (typeof flow === "string" && !PUBLISHABLE_FLOWS.includes(flow)) {
    ctx.addIssue({
      code: "custom",
      path: ["oauth2", "authFlow"],
      message: `users log in interactively: use ${PUBLISHABLE_FLOWS.join(" or ")}`,
    });
    return;
  }
  const result = ProviderOAuth2Schema.safeParse({ ...oauth2, issuer }, parseWithMessages);
  if (result.success) return;
  for (const issue of result.error.issues) {
    if (issue.path[0] === "issuer") continue; // reported on the top-level field
    ctx.addIssue({ code: "custom", path: ["oauth2", ...issue.path], message: issue.message });
  }
}

/** The published block: what the config says, with issuer, scopes, authFlow and pkce explicit. */
export function publishedOAuth2(
  issuer: string,
  oauth2: Record<string, unknown>,
): Record<string, unknown> & { clientId: string } {
  const login = ProviderOAuth2Schema.parse({ ...oauth2, issuer });
  return {
    ...oauth2,
    issuer,
    clientId: login.clientId,
    scopes: login.scopes,
    authFlow: login.authFlow,
    pkce: login.pkce,
  };
}
