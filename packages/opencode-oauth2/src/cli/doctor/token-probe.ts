import type { OAuth2Error, ProviderConfig, ResolvedClient } from "@vymalo/oauth2-core";
import { clientConfiguration, clientOf, toOAuth2Error } from "@vymalo/oauth2-core/protocol";
import * as client from "openid-client";
import type { FetchRecorder } from "./recording-fetch.js";

/** A refresh token no IdP ever issued: the probe can only fail, after client authentication. */
export const PROBE_REFRESH_TOKEN = "opencode-oauth2-doctor-probe-not-a-real-token";
/** The control probe of a confidential client: its own id and method, a secret that is wrong. */
export const WRONG_SECRET = "opencode-oauth2-doctor-deliberately-wrong-secret";
/** The control probe of a public client: an id no IdP has registered. */
export const UNKNOWN_CLIENT_ID = "opencode-oauth2-doctor-unknown-client";

/** What one probe got: an answer (its OAuth error or what came back), or none at all. */
export type ProbeOutcome =
  | { kind: "accepted" }
  | { kind: "answered"; err: OAuth2Error }
  | { kind: "failed"; err: OAuth2Error };

/**
 * A refresh_token grant with {@link PROBE_REFRESH_TOKEN}. An IdP authenticates the client
 * before it looks at the grant, so the answer says whether it knows the client and accepts how
 * it authenticates. It needs no user, mints nothing and creates no state at the IdP (unlike a
 * device authorization or a client-credentials request), so it burns nothing.
 */
export async function refreshProbe(
  provider: ProviderConfig,
  resolved: ResolvedClient,
  recorder: FetchRecorder,
): Promise<ProbeOutcome> {
  let config: client.Configuration | undefined;
  try {
    config = await clientConfiguration(provider, resolved, recorder.fetch);
    await client.refreshTokenGrant(config, PROBE_REFRESH_TOKEN);
    return { kind: "accepted" };
  } catch (err) {
    const mapped = toOAuth2Error(err, "refresh", provider.id, config && clientOf(config));
    return mapped.idp || mapped.answer
      ? { kind: "answered", err: mapped }
      : { kind: "failed", err: mapped };
  }
}

/** An answer that refuses the client: `invalid_client`, or a 401/403 without an OAuth error. */
export function isRefusal(
  outcome: ProbeOutcome,
): outcome is { kind: "answered"; err: OAuth2Error } {
  return (
    outcome.kind === "answered" &&
    (outcome.err.idp?.error === "invalid_client" || outcome.err.code === "client_refused")
  );
}

/** The same client with credentials the IdP must refuse, and how to name them. */
export interface Control {
  client: ResolvedClient;
  /** "with a deliberately wrong secret" */
  sentWith: string;
  /** "a deliberately wrong secret" */
  name: string;
}

export function controlFor(resolved: ResolvedClient): Control {
  return resolved.type === "confidential"
    ? {
        client: { ...resolved, clientSecret: WRONG_SECRET },
        sentWith: "with a deliberately wrong secret",
        name: "a deliberately wrong secret",
      }
    : {
        client: { ...resolved, clientId: UNKNOWN_CLIENT_ID },
        sentWith: "from a client id it does not know",
        name: "a client id it does not know",
      };
}
