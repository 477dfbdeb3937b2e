import type { OAuth2Error, ProviderConfig, ResolvedClient } from "@vymalo/oauth2-core";
import { saidBy, sameAnswer } from "./idp-said.js";
import type { FetchRecorder } from "./recording-fetch.js";
import { controlFor, isRefusal, refreshProbe } from "./token-probe.js";

/** How the IdP answered the probe and its control, when that is what decided. */
export interface Differential {
  probe: string;
  control: string;
  /** "with a deliberately wrong secret" */
  sentWith: string;
}

/** Whether the IdP accepts one client with one way of authenticating. */
export type Verdict =
  | { kind: "accepted"; differential?: Differential | undefined }
  | { kind: "refused"; evidence: string; err: OAuth2Error }
  | { kind: "unsure"; level: "warn" | "error"; found: string; fix: string };

/** Errors that are about the IdP, not the request: their fix is to wait. */
const IDP_TROUBLE = new Set(["temporarily_unavailable", "server_error"]);

export const NOTHING_KNOWN_WRONG =
  "nothing is known to be wrong; if a login or token request fails, its error names the IdP's answer";

/**
 * Probes `resolved` (see {@link refreshProbe}). An OAuth error decides alone: `invalid_grant`
 * means the client was authenticated, `invalid_client` that it was not; `unauthorized_client`
 * is a refusal when a control probe (below) gets the same answer. An answer without one
 * (an empty 400, say) is compared with the answer to a control probe the IdP must refuse — the
 * same client with a wrong secret, or a client id it does not know: a 400 where the control got
 * 401/403 means the IdP got past the client; the same refusal twice means it refused it; the
 * same answer otherwise tells nothing.
 */
export async function judgeClient(
  provider: ProviderConfig,
  resolved: ResolvedClient,
  who: string,
  recorder: FetchRecorder,
): Promise<Verdict> {
  const first = await refreshProbe(provider, resolved, recorder);
  if (first.kind === "accepted") return { kind: "accepted" };
  if (first.kind === "failed") {
    return {
      kind: "unsure",
      level: "error",
      found: `probing ${who} failed: ${first.err.detail}`,
      fix: first.err.fix,
    };
  }
  const { err } = first;
  const said = saidBy(err);
  const code = err.idp?.error;
  switch (code) {
    case "invalid_grant":
      return { kind: "accepted" };
    case "invalid_client":
      return { kind: "refused", evidence: said, err };
    case "unauthorized_client": {
      // Some IdPs (Keycloak) say so to a client that failed to authenticate: the same answer
      // to a control probe it must refuse means this client was refused too.
      const control = controlFor(resolved);
      const second = await refreshProbe(provider, control.client, recorder);
      if (second.kind === "answered" && sameAnswer(err, second.err)) {
        return { kind: "refused", evidence: `${said}, the same answer as to ${control.name}`, err };
      }
      return {
        kind: "unsure",
        level: "warn",
        found: `the IdP answered ${said} to a refresh request from ${who}.`,
        fix: "check clientId; if it is right, allow the refresh_token grant for this client at the IdP, or logins will not outlive one access token",
      };
    }
    case "unsupported_grant_type":
      return {
        kind: "unsure",
        level: "warn",
        found: `the IdP does not support refresh tokens (${said}), so it cannot tell whether it knows ${who}.`,
        fix: "expect to log in again whenever the access token expires",
      };
    case undefined:
      break;
    default:
      return {
        kind: "unsure",
        level: "warn",
        found: `inconclusive (${said}): the IdP answered the probe from ${who} with an error that does not tell whether it accepts the client.`,
        fix: IDP_TROUBLE.has(code)
          ? err.fix
          : "read what the IdP said: a token refresh from this client gets the same answer",
      };
  }

  const control = controlFor(resolved);
  const second = await refreshProbe(provider, control.client, recorder);
  const inconclusive = (why: string): Verdict => ({
    kind: "unsure",
    level: "warn",
    found: `inconclusive (${said}): ${why}`,
    fix: NOTHING_KNOWN_WRONG,
  });
  if (second.kind !== "answered") {
    return isRefusal(first)
      ? { kind: "refused", evidence: said, err }
      : inconclusive(`doctor cannot tell whether the IdP accepts ${who}.`);
  }
  if (sameAnswer(err, second.err)) {
    return isRefusal(first)
      ? { kind: "refused", evidence: `${said}, the same answer as to ${control.name}`, err }
      : inconclusive(
          `the IdP answered the same to the probe from ${who} and ${control.sentWith}, so doctor cannot tell whether it accepts this client.`,
        );
  }
  if (isRefusal(second) && !isRefusal(first) && err.answer?.status === 400) {
    const differential = { probe: said, control: saidBy(second.err), sentWith: control.sentWith };
    return { kind: "accepted", differential };
  }
  if (isRefusal(first) && isRefusal(second)) return { kind: "refused", evidence: said, err };
  return inconclusive(
    `the IdP answered ${saidBy(second.err)} to the same probe ${control.sentWith}, which does not tell whether it accepts ${who}.`,
  );
}
