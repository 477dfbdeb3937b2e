import {
  describeIdpAnswer,
  type IdpAnswer,
  type OAuth2Error,
  type ProviderConfig,
  type ResolvedClient,
} from "@vymalo/oauth2-core";
import {
  authorizationRequestParams,
  clientConfiguration,
  readIdpAnswer,
  redactSecrets,
  toOAuth2Error,
} from "@vymalo/oauth2-core/protocol";
import type { ServerMetadata } from "openid-client";
import * as client from "openid-client";
import { error, type Finding, ok, warn } from "./finding.js";
import { oauthError, shortAnswer } from "./idp-said.js";
import type { FetchRecorder } from "./recording-fetch.js";

/** How the authorization endpoint took one login request (no user, so nothing is approved). */
type AuthorizeAnswer =
  /** It redirected to its login page, or showed one: the request was accepted. */
  | { kind: "login" }
  /** It sent the browser back to the redirect URI with an OAuth error. */
  | { kind: "returned"; error: string; description?: string | undefined }
  /** It answered an error page or an OAuth error itself (an unacceptable redirect URI). */
  | {
      kind: "refused";
      answer: IdpAnswer;
      said?: { error: string; error_description?: string | undefined } | undefined;
    }
  | { kind: "failed"; err: OAuth2Error };

const CHECK = "redirect uri";
const REFERS_TO_PKCE = /code_challenge|pkce/i;

const textOf = (a: AuthorizeAnswer): string => {
  if (a.kind === "returned") return `${a.error} ${a.description ?? ""}`;
  if (a.kind !== "refused") return "";
  const { said, answer } = a;
  return `${said?.error ?? ""} ${said?.error_description ?? ""} ${answer.excerpt ?? ""} ${answer.title ?? ""}`;
};

/** "HTTP 400: invalid_request (…)", or the answer without its endpoint. */
function briefly(a: AuthorizeAnswer): string {
  if (a.kind === "returned") {
    return `${oauthError(a.error, a.description)}, sent back to the redirect URI`;
  }
  if (a.kind !== "refused") return "";
  return a.said
    ? `HTTP ${a.answer.status}: ${oauthError(a.said.error, a.said.error_description)}`
    : shortAnswer(a.answer);
}

/** "authorization endpoint answered HTTP 403 (text/html, page "403 Forbidden")". */
type Refused = Extract<AuthorizeAnswer, { kind: "refused" }>;

const withEndpoint = (a: Refused) =>
  a.said ? `authorization endpoint answered ${briefly(a)}` : describeIdpAnswer(a.answer);

/** A port from the dynamic range, other than `not`: nothing listens there, nothing is needed. */
function somePort(not?: number): number {
  for (;;) {
    const port = 49152 + Math.floor(Math.random() * 16384);
    if (port !== not) return port;
  }
}

async function send(
  provider: ProviderConfig,
  config: client.Configuration,
  port: number,
  pkce: boolean,
  recorder: FetchRecorder,
): Promise<AuthorizeAnswer> {
  const redirectUri = `http://127.0.0.1:${port}${provider.redirectPath}`;
  // Fresh values the login would send, never used again: no code can come of this request.
  const params = authorizationRequestParams(provider, {
    redirectUri,
    state: client.randomState(),
    ...(provider.scopes.includes("openid") ? { nonce: client.randomNonce() } : {}),
    ...(pkce
      ? {
          codeChallenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        }
      : {}),
  });
  let url: URL;
  let response: Response;
  try {
    url = client.buildAuthorizationUrl(config, params);
    response = await recorder.fetch(url.href, {
      redirect: "manual",
      signal: AbortSignal.timeout(provider.httpTimeoutMs),
    });
  } catch (err) {
    return { kind: "failed", err: toOAuth2Error(err, "authorization", provider.id) };
  }
  if (response.status < 400) {
    await response.body?.cancel();
    const location = response.headers.get("location");
    const target = location ? new URL(location, url) : undefined;
    const error = target?.searchParams.get("error");
    if (target && error && `${target.origin}${target.pathname}` === redirectUri) {
      const description = target.searchParams.get("error_description");
      return {
        kind: "returned",
        error: redactSecrets(error).slice(0, 64),
        description: description ? redactSecrets(description).slice(0, 200) : undefined,
      };
    }
    return { kind: "login" };
  }
  return { kind: "refused", ...(await readIdpAnswer(response, "authorization")) };
}

export interface AuthorizeProbe {
  findings: Finding[];
  /** Set when the endpoint refused the PKCE parameters; replaces the metadata's verdict. */
  pkce?: Finding | undefined;
}

/**
 * The browser login's authorization request, sent with `redirect: "manual"` for two loopback
 * redirect URIs on different ports (the configured `redirectPort` and another one). No user
 * logs in and the request is never completed, so nothing is minted. An IdP that allows any
 * loopback port (RFC 8252 §7.3) redirects both to its login page; one that compares redirect
 * URIs exactly shows an error page for a port it does not know.
 */
export async function probeAuthorization(
  provider: ProviderConfig,
  resolved: ResolvedClient,
  meta: ServerMetadata,
  recorder: FetchRecorder,
): Promise<AuthorizeProbe> {
  const config = await clientConfiguration(provider, resolved, recorder.fetch);
  const fixed = provider.redirectPort;
  const portA = fixed ?? somePort();
  const portB = somePort(portA);
  const uri = (port: number) => `http://127.0.0.1:${port}${provider.redirectPath}`;
  const forClient = `for client "${resolved.clientId}" at the IdP`;

  let pkce = provider.pkce;
  let first = await send(provider, config, portA, pkce, recorder);
  let pkceFinding: Finding | undefined;
  if (pkce && REFERS_TO_PKCE.test(textOf(first))) {
    const advertised = meta.code_challenge_methods_supported?.includes("S256");
    pkceFinding = error(
      "pkce",
      `${advertised ? "the IdP advertises S256, but its" : "the IdP's"} authorization endpoint refused the PKCE parameters (${briefly(first)}).`,
      'set "pkce": false',
    );
    // The rest of the probe without PKCE, as the login would run with the fix.
    pkce = false;
    first = await send(provider, config, portA, pkce, recorder);
  }
  const result = (findings: Finding[]): AuthorizeProbe => ({ findings, pkce: pkceFinding });
  const unreachable = (a: Extract<AuthorizeAnswer, { kind: "failed" }>) =>
    result([
      error(CHECK, `could not probe the authorization endpoint: ${a.err.detail}`, a.err.fix),
    ]);
  if (first.kind === "failed") return unreachable(first);
  const findings: Finding[] = [];
  if (first.kind === "returned") {
    findings.push(
      warn(
        "authorization",
        `the IdP sent the login request back to the redirect URI with ${oauthError(first.error, first.description)}: the browser login fails the same way.`,
        "fix what the IdP names (the client's grant types, scopes, audience/resource, authorizationParams)",
      ),
    );
  }

  if (fixed !== undefined && first.kind === "refused") {
    findings.push(
      error(
        CHECK,
        `the IdP refused the login request with redirect URI ${uri(fixed)} (${withEndpoint(first)}).`,
        `register ${uri(fixed)} ${forClient} (exactly: 127.0.0.1, the port, the path), or set redirectPort to the port of a registered one`,
      ),
    );
    return result(findings);
  }
  const second = await send(provider, config, portB, pkce, recorder);
  if (second.kind === "failed") return unreachable(second);
  if (fixed !== undefined) {
    findings.push(
      ok(
        CHECK,
        second.kind === "refused"
          ? `the IdP accepts ${uri(fixed)} (it compares redirect URIs exactly: other ports are refused)`
          : `the IdP accepts ${uri(fixed)} (and a loopback redirect URI on any port)`,
      ),
    );
    return result(findings);
  }
  // Neither port was registered: one refusal is enough to know the IdP wants an exact match.
  const refusals = (
    [
      [portA, first],
      [portB, second],
    ] as const
  ).filter((entry): entry is [number, Refused] => entry[1].kind === "refused");
  const [refused] = refusals;
  if (!refused) {
    findings.push(
      ok(
        CHECK,
        "the IdP accepts a loopback redirect URI on any port (RFC 8252), as the browser login needs",
      ),
    );
    return result(findings);
  }
  findings.push(
    error(
      CHECK,
      `the IdP refused the login request with ${refusals.map(([port]) => uri(port)).join(" and ")} (${withEndpoint(refused[1])}): it compares redirect URIs exactly, so a login on a free port never comes back.`,
      `set "redirectPort" to a free port from 1024 up (e.g. 8765) and register http://127.0.0.1:<port>${provider.redirectPath} ${forClient}`,
    ),
  );
  return result(findings);
}
