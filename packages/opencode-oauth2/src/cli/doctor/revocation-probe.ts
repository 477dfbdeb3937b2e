import {
  describeIdpAnswer,
  endpointLabel,
  type ProviderConfig,
  type ReadResult,
  type ResolvedClient,
} from "@vymalo/oauth2-core";
import {
  clientConfiguration,
  clientOf,
  revokeWithAccessToken,
  toOAuth2Error,
} from "@vymalo/oauth2-core/protocol";
import * as client from "openid-client";
import { type Finding, ok, warn } from "./finding.js";
import { oauthError } from "./idp-said.js";
import type { FetchRecorder } from "./recording-fetch.js";
import { PROBE_REFRESH_TOKEN } from "./token-probe.js";

const CHECK = "revocation";

/**
 * Can `logout` revoke with this public client? A revocation of a token that does not exist:
 * RFC 7009 §2.2 has the IdP answer 200 to an invalid token, so a refusal (401/403,
 * invalid_client) means the IdP refuses revocation from the client itself — as some do for
 * clients without a secret. Then, as logout does, the cached access token (while valid) is
 * offered as the request's credentials. Revokes nothing, mints nothing.
 */
export async function probeRevocation(
  provider: ProviderConfig,
  resolved: ResolvedClient,
  read: ReadResult,
  now: number,
  recorder: FetchRecorder,
): Promise<Finding> {
  const who = `the public client "${resolved.clientId}"`;
  let config: client.Configuration | undefined;
  try {
    config = await clientConfiguration(provider, resolved, recorder.fetch);
    await client.tokenRevocation(config, PROBE_REFRESH_TOKEN, { token_type_hint: "refresh_token" });
    return ok(
      CHECK,
      `the IdP accepts revocation requests from ${who} (logout revokes the refresh token)`,
    );
  } catch (err) {
    const mapped = toOAuth2Error(err, "revocation", provider.id, config && clientOf(config));
    const status = mapped.answer?.status ?? mapped.idp?.status;
    const answered = mapped.idp
      ? `${endpointLabel("revocation")} answered${status === undefined ? "" : ` HTTP ${status}:`} ${oauthError(mapped.idp.error, mapped.idp.error_description)}`
      : mapped.answer && describeIdpAnswer(mapped.answer);
    const refused =
      status === 401 ||
      status === 403 ||
      mapped.idp?.error === "invalid_client" ||
      mapped.idp?.error === "unauthorized_client";
    if (!answered || !refused) {
      return warn(
        CHECK,
        `inconclusive: ${answered ? `the ${answered}` : mapped.detail} to the revocation of a token that does not exist (RFC 7009 answers 200), so logout may not be able to revoke.`,
        mapped.fix,
      );
    }
    const refusal = `the IdP refuses revocation requests from ${who} (${answered}, to a token that does not exist, which RFC 7009 answers with 200)`;
    const endpoint = config?.serverMetadata().revocation_endpoint;
    const token = read.kind === "ok" ? read.token : undefined;
    const usable =
      token?.binding.clientId === resolved.clientId &&
      (token.expiresAt === undefined || token.expiresAt > now);
    if (!token || !usable || !endpoint) {
      return warn(
        CHECK,
        `${refusal}: logout cannot revoke with the client alone, so a refresh token may stay active at the IdP until it expires.`,
        "log in and run doctor again: logout also offers the access token as credentials, which some IdPs (Glewlwyd) accept; to end a session at once, sign out at the IdP or have its admin end it",
      );
    }
    const probe = { ...token, refreshToken: PROBE_REFRESH_TOKEN };
    if (await revokeWithAccessToken(provider, endpoint, resolved, probe, recorder.fetch)) {
      return ok(
        CHECK,
        `the IdP refuses revocation requests from ${who} alone but accepts its access token as credentials: logout revokes the refresh token while the access token is valid`,
      );
    }
    return warn(
      CHECK,
      `${refusal}, also with the cached access token as credentials: logout cannot revoke, so a refresh token stays active at the IdP until it expires.`,
      "logout still deletes the local tokens; to end a session at once, sign out at the IdP or have its admin end it; to let logout revoke, ask the admin to allow revocation by this client (some IdPs accept an access token carrying a scope they name)",
    );
  }
}
