import type { ProviderConfig, ResolvedClient } from "@vymalo/oauth2-core";
import { basicEncodingChanges } from "@vymalo/oauth2-core/protocol";
import type { ServerMetadata } from "openid-client";
import { type Differential, judgeClient, type Verdict } from "./client-verdict.js";
import { error, type Finding, ok } from "./finding.js";
import type { FetchRecorder } from "./recording-fetch.js";

type SecretMethod = "client_secret_basic" | "client_secret_post";
const SECRET_METHODS: readonly SecretMethod[] = ["client_secret_basic", "client_secret_post"];

export interface ClientProbe {
  finding: Finding;
  /** The IdP refused the client whatever it tried: other probes of it would tell nothing. */
  refused: boolean;
}

/** One character as RFC 6749 §2.3.1 (and openid-client) form-encodes it in Basic credentials. */
const formEncode = (text: string) =>
  encodeURIComponent(text)
    .replace(/[-_.!~*'()]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");

/** Why client_secret_basic was refused where client_secret_post was not. */
function basicEncodingNote(clientId: string): string {
  const changed = basicEncodingChanges(clientId);
  if (changed.length === 0) {
    return " (RFC 6749 form-encodes HTTP Basic credentials, and this IdP evidently does not decode them)";
  }
  const chars = changed.map((ch) => `"${ch}"`).join(", ");
  const encoded = changed.map((ch) => `"${formEncode(ch)}"`).join(", ");
  return ` (the client id "${clientId}" contains ${chars}, which RFC 6749 form-encoding of HTTP Basic credentials turns into ${encoded}; this IdP evidently does not decode Basic credentials, so it looked up a client "${formEncode(clientId)}")`;
}

const accepted = (who: string, differential: Differential | undefined) =>
  `the IdP knows ${who} and accepted its authentication${
    differential
      ? `: it answered ${differential.probe} to the probe, and ${differential.control} to the same probe ${differential.sentWith}`
      : ""
  }`;

/**
 * The configured method was refused: tries the other secret methods the IdP advertises (both
 * when it advertises none) and names the one that works.
 */
async function tryOtherMethods(
  provider: ProviderConfig,
  resolved: ResolvedClient,
  refused: Extract<Verdict, { kind: "refused" }>,
  meta: ServerMetadata,
  check: string,
  recorder: FetchRecorder,
): Promise<ClientProbe> {
  const configured = resolved.authMethod as SecretMethod;
  const advertised = meta.token_endpoint_auth_methods_supported;
  const others = SECRET_METHODS.filter(
    (m) => m !== configured && (!advertised || advertised.includes(m)),
  );
  const id = `"${resolved.clientId}" (confidential)`;
  const refusedWith = [`${configured} (${refused.evidence})`];
  const unsure: string[] = [];
  for (const method of others) {
    const who = `"${resolved.clientId}" (confidential, ${method})`;
    const verdict = await judgeClient(provider, { ...resolved, authMethod: method }, who, recorder);
    if (verdict.kind === "accepted") {
      const d = verdict.differential;
      const how = d ? ` (${d.probe} to the probe, ${d.control} ${d.sentWith})` : "";
      const note = configured === "client_secret_basic" ? basicEncodingNote(resolved.clientId) : "";
      return {
        refused: false,
        finding: error(
          check,
          `the IdP refused ${id} with ${configured} (${refused.evidence}) and accepted it with ${method}${how}.`,
          `set "clientAuthMethod": "${method}"${note}`,
        ),
      };
    }
    if (verdict.kind === "refused") refusedWith.push(`${method} (${verdict.evidence})`);
    else unsure.push(` With ${method}: ${verdict.found}`);
  }
  const tried = [configured, ...others].join(" and ");
  return {
    refused: true,
    finding: error(
      check,
      `the IdP refused ${id} with ${refusedWith.join(" and with ")}.${unsure.join("")}`,
      `check clientSecret and clientId: the IdP refused them with ${tried}${others.length ? "" : " (the only way of sending the secret it advertises)"}; if they are right, the IdP may have registered the client as public (then remove clientSecret) or with an authentication this plugin does not send`,
    ),
  };
}

/**
 * Does the IdP know this client, and accept how it authenticates? See {@link judgeClient}; a
 * refused confidential client is tried with the other secret methods.
 */
export async function probeClient(
  provider: ProviderConfig,
  resolved: ResolvedClient,
  label: string,
  meta: ServerMetadata,
  recorder: FetchRecorder,
): Promise<ClientProbe> {
  const check = `client (${label})`;
  const who =
    resolved.type === "public"
      ? `"${resolved.clientId}" (public)`
      : `"${resolved.clientId}" (confidential, ${resolved.authMethod})`;
  const verdict = await judgeClient(provider, resolved, who, recorder);
  switch (verdict.kind) {
    case "accepted":
      return { refused: false, finding: ok(check, accepted(who, verdict.differential)) };
    case "unsure":
      return {
        refused: false,
        finding: { level: verdict.level, check, found: verdict.found, fix: verdict.fix },
      };
    case "refused":
      if ((SECRET_METHODS as readonly string[]).includes(resolved.authMethod)) {
        return tryOtherMethods(provider, resolved, verdict, meta, check, recorder);
      }
      return {
        refused: true,
        finding: error(
          check,
          `the IdP refused ${who}: ${verdict.evidence}.`,
          `the IdP does not know this client or refused its credentials: ${verdict.err.fix}`,
        ),
      };
  }
}
