import type { ProviderConfig, ResolvedClient } from "@vymalo/oauth2-core";
import { clientConfiguration, toOAuth2Error } from "@vymalo/oauth2-core/protocol";
import * as client from "openid-client";
import { error, type Finding, ok, warn } from "./finding.js";
import type { FetchRecorder } from "./recording-fetch.js";

/** A refresh token no IdP ever issued: the probe can only fail, after client authentication. */
export const PROBE_REFRESH_TOKEN = "opencode-oauth2-doctor-probe-not-a-real-token";

/**
 * Does the IdP know this client, and accept how it authenticates? The probe is a refresh_token
 * grant with a refresh token that does not exist. An IdP authenticates the client before it
 * looks at the grant, so the answer tells:
 * - `invalid_grant`: the client is known and authenticated (public or with its secret);
 * - `invalid_client`: unknown client id, wrong secret, or public vs confidential mismatch;
 * - `unauthorized_client`: the client may not use refresh tokens (or, at some IdPs, is unknown).
 * It needs no user, mints nothing, and creates no state at the IdP (unlike a device
 * authorization or client-credentials request), so it burns nothing.
 */
export async function probeClient(
  provider: ProviderConfig,
  resolved: ResolvedClient,
  label: string,
  recorder: FetchRecorder,
): Promise<Finding> {
  const check = `client (${label})`;
  const who = `"${resolved.clientId}" (${resolved.type})`;
  let answer: ReturnType<typeof toOAuth2Error>;
  try {
    const config = await clientConfiguration(provider, resolved, recorder.fetch);
    await client.refreshTokenGrant(config, PROBE_REFRESH_TOKEN);
    return ok(check, `the IdP accepted a probe for ${who}`);
  } catch (err) {
    answer = toOAuth2Error(err, "refresh", provider.id);
  }
  const idpError = answer.idp?.error;
  const said = answer.idp
    ? `${idpError}${answer.idp.error_description ? ` (${answer.idp.error_description})` : ""}`
    : answer.detail;
  switch (idpError) {
    case "invalid_grant":
      return ok(check, `the IdP knows ${who} and accepted its authentication`);
    case "invalid_client":
      return error(
        check,
        `the IdP refused ${who}: ${said}.`,
        `the IdP does not know this client or refused its credentials: ${answer.fix}`,
      );
    case "unauthorized_client":
      return warn(
        check,
        `the IdP answered ${said} to a refresh request from ${who}.`,
        "check clientId; if it is right, allow the refresh_token grant for this client at the IdP, or logins will not outlive one access token",
      );
    case "unsupported_grant_type":
      return warn(
        check,
        `the IdP does not support refresh tokens (${said}), so it cannot tell whether it knows ${who}.`,
        "expect to log in again whenever the access token expires",
      );
    case undefined:
      return error(check, `probing ${who} failed: ${answer.detail}`, answer.fix);
    default:
      return warn(
        check,
        `inconclusive: the IdP answered ${said} to a probe for ${who}.`,
        answer.fix,
      );
  }
}
