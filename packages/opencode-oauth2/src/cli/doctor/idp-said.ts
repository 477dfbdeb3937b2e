import {
  describeIdpAnswer,
  endpointLabel,
  type IdpAnswer,
  type OAuth2Error,
} from "@vymalo/oauth2-core";

/** An answer without its endpoint: "HTTP 400, empty body", "HTTP 403 (text/html, page "…")". */
export function shortAnswer(answer: IdpAnswer): string {
  const text = describeIdpAnswer(answer);
  const prefix = `${endpointLabel(answer.endpoint)} answered `;
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}

/** An OAuth error as the IdP sent it: "invalid_client (client authentication failed)". */
export function oauthError(error: string, description: string | undefined): string {
  return description ? `${error} (${description})` : error;
}

/**
 * What the IdP answered, briefly and without secrets: "HTTP 401: invalid_client (…)" for an
 * OAuth error, "HTTP 400, empty body" for anything else; the failure when nothing came back.
 */
export function saidBy(err: OAuth2Error): string {
  if (err.idp) {
    const status = err.answer?.status ?? err.idp.status;
    const said = oauthError(err.idp.error, err.idp.error_description);
    return status === undefined ? said : `HTTP ${status}: ${said}`;
  }
  return err.answer ? shortAnswer(err.answer) : err.detail;
}

/** Two answers that tell the same (status, OAuth error, content type, body, page title). */
export function sameAnswer(a: OAuth2Error, b: OAuth2Error): boolean {
  const key = (e: OAuth2Error) =>
    JSON.stringify([
      e.idp?.error,
      e.answer?.status ?? e.idp?.status,
      e.answer?.contentType,
      e.answer?.excerpt,
      e.answer?.title,
    ]);
  return key(a) === key(b);
}
