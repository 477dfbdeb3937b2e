import { ProviderOAuth2Schema, parseWithMessages, unpublishableFields } from "@vymalo/oauth2-core";
import type * as z from "@vymalo/oauth2-core/zod";

/**
 * The login settings the manifest publishes (`provider.<id>.options.oauth2`): opencode-oauth2's
 * own provider schema, limited by the core's publishable rule (a public client, an interactive
 * flow, no secret, no local file or env reference: the same rule the CLI and the plugin apply
 * when they read a manifest), with the gateway's `issuer` added, so the issuer is written once.
 */

/** Adds an issue (under `oauth2.…`) for everything that cannot or may not be published. */
export function checkPublishedOAuth2(
  issuer: string,
  oauth2: Record<string, unknown>,
  ctx: z.RefinementCtx,
): void {
  const { issuer: second, ...published } = oauth2;
  if (second !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["oauth2", "issuer"],
      message: "the top-level `issuer` is published; remove oauth2.issuer",
    });
  }
  const refused = unpublishableFields(published);
  for (const { path, message } of refused) {
    ctx.addIssue({ code: "custom", path: ["oauth2", ...path], message });
  }
  // The rest is checked by the schema; a refused field is reported once, above.
  const rest = Object.fromEntries(
    Object.entries(published).filter(([key]) => !refused.some((r) => r.path[0] === key)),
  );
  const result = ProviderOAuth2Schema.safeParse({ ...rest, issuer }, parseWithMessages);
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
