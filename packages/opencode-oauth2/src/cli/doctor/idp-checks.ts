import {
  type AuthFlow,
  isOAuth2Error,
  type ProviderConfig,
  type ResolvedClient,
} from "@vymalo/oauth2-core";
import { OTHER_SECRET_METHOD, serverMetadata } from "@vymalo/oauth2-core/protocol";
import type { ServerMetadata } from "openid-client";
import { formatDuration } from "../human-time.js";
import { error, type Finding, ok, warn } from "./finding.js";
import type { FetchRecorder } from "./recording-fetch.js";

const GRANT_OF: Record<AuthFlow, string> = {
  authorization_code: "authorization_code",
  device_code: "urn:ietf:params:oauth:grant-type:device_code",
  client_credentials: "client_credentials",
  token_exchange: "urn:ietf:params:oauth:grant-type:token-exchange",
  jwt_bearer: "urn:ietf:params:oauth:grant-type:jwt-bearer",
};

/** Beyond this the IdP's and this machine's clocks disagree enough to matter. */
export const MAX_CLOCK_SKEW_MS = 30_000;

/**
 * Loads the server metadata through core (discovery, or the `endpoints` overrides) and checks
 * the discovery document names exactly the configured issuer.
 */
export async function checkDiscovery(
  provider: ProviderConfig,
  recorder: FetchRecorder,
): Promise<{ findings: Finding[]; meta?: ServerMetadata; discovered: boolean }> {
  const discovered = !provider.endpoints?.token;
  let meta: ServerMetadata;
  try {
    meta = await serverMetadata(provider, recorder.fetch);
  } catch (err) {
    if (!isOAuth2Error(err)) throw err;
    const named = recorder.discoveredIssuer(provider.issuer);
    if (typeof named === "string" && named !== provider.issuer) {
      return {
        discovered,
        findings: [
          error(
            "issuer",
            `the discovery document of ${provider.issuer} names the issuer "${named}", not the configured "${provider.issuer}".`,
            `set "issuer": "${named}" (exactly: scheme, host, port, path, trailing slash), or fix the IdP's public URL if the config is right`,
          ),
        ],
      };
    }
    return { discovered, findings: [error("discovery", err.detail, err.fix)] };
  }
  if (!discovered) {
    return {
      discovered,
      meta,
      findings: [
        ok("discovery", "skipped: endpoints.token is set, the configured endpoints are used"),
      ],
    };
  }
  const findings =
    meta.issuer === provider.issuer
      ? [ok("discovery", `${provider.issuer} answers and its discovery document names this issuer`)]
      : [
          warn(
            "issuer",
            `the discovery document spells the issuer "${meta.issuer}", the config "${provider.issuer}"`,
            `set "issuer": "${meta.issuer}" exactly as the IdP states it (token bindings and id_token checks compare it)`,
          ),
        ];
  return { discovered, meta, findings };
}

/** Endpoints and grants the configured flows need. */
export function checkEndpoints(meta: ServerMetadata, flows: AuthFlow[]): Finding[] {
  const findings: Finding[] = [];
  const missing = (field: string, what: string, fix: string) =>
    findings.push(error("endpoints", `the IdP has no ${field} (${what}).`, fix));
  if (!meta.token_endpoint) {
    missing(
      "token_endpoint",
      "every flow needs one",
      "set endpoints.token, or check the issuer URL",
    );
  }
  if (flows.includes("authorization_code") && !meta.authorization_endpoint) {
    missing(
      "authorization_endpoint",
      "needed by the browser login",
      'set endpoints.authorization, or use "authFlow": "device_code"',
    );
  }
  if (flows.includes("device_code") && !meta.device_authorization_endpoint) {
    missing(
      "device_authorization_endpoint",
      "needed by the device login",
      'enable the device flow at the IdP and set endpoints.deviceAuthorization if it is not discovered, or use "authFlow": "authorization_code"',
    );
  }
  const grants = meta.grant_types_supported;
  for (const flow of flows) {
    const grant = GRANT_OF[flow];
    if (grants && !grants.includes(grant)) {
      findings.push(
        warn(
          "grant types",
          `the IdP does not list ${grant} in grant_types_supported (needed by ${flow}).`,
          `enable ${flow} at the IdP, or choose another flow`,
        ),
      );
    }
  }
  if (!meta.revocation_endpoint) {
    findings.push(
      warn(
        "revocation",
        "the IdP has no revocation_endpoint: logout removes the local tokens but cannot revoke the refresh token.",
        "set endpoints.revocation if the IdP has one",
      ),
    );
  }
  if (findings.every((f) => f.level !== "error")) {
    findings.unshift(ok("endpoints", `present for ${flows.join(", ")}`));
  }
  return findings;
}

/** PKCE S256 when `pkce` is on (interactive flows only; needs discovery to know). */
export function checkPkce(provider: ProviderConfig, meta: ServerMetadata): Finding[] {
  const methods = meta.code_challenge_methods_supported;
  if (!provider.pkce) {
    return methods?.includes("S256")
      ? [
          warn(
            "pkce",
            "pkce is off although the IdP supports S256.",
            'set "pkce": true (the default) unless the IdP rejects PKCE parameters',
          ),
        ]
      : [ok("pkce", "off, and the IdP does not advertise S256")];
  }
  if (!methods) {
    return [
      warn(
        "pkce",
        "the IdP does not advertise code_challenge_methods_supported, so S256 support is unknown.",
        'if the login fails with an error about code_challenge, set "pkce": false',
      ),
    ];
  }
  return methods.includes("S256")
    ? [ok("pkce", "the IdP supports S256")]
    : [
        error(
          "pkce",
          `the IdP supports only ${methods.join(", ") || "no"} code challenge methods, not S256.`,
          'set "pkce": false',
        ),
      ];
}

/** The client's token-endpoint authentication against token_endpoint_auth_methods_supported. */
export function checkAuthMethod(
  label: string,
  client: ResolvedClient,
  meta: ServerMetadata,
): Finding {
  // RFC 8414 §2: when omitted, the default is client_secret_basic.
  const supported = meta.token_endpoint_auth_methods_supported ?? ["client_secret_basic"];
  const check = `client auth (${label})`;
  if (client.authMethod === "none") {
    return supported.includes("none")
      ? ok(check, `public client "${client.clientId}"; the IdP accepts "none"`)
      : warn(
          check,
          `"${client.clientId}" is a public client, but the IdP does not list "none" in token_endpoint_auth_methods_supported.`,
          "if logins fail with invalid_client, the client is confidential at the IdP: set clientSecret, or make it public there",
        );
  }
  if (supported.includes(client.authMethod)) {
    return ok(check, `confidential client "${client.clientId}" with ${client.authMethod}`);
  }
  if (client.authMethod === "private_key_jwt") {
    return error(
      check,
      `"${client.clientId}" signs a private_key_jwt assertion, which the IdP does not list (it lists ${supported.join(", ")}).`,
      "enable private_key_jwt (signed JWT, certificate credentials) for this client at the IdP, or choose a clientAuthMethod it lists",
    );
  }
  if (
    client.authMethod === "tls_client_auth" ||
    client.authMethod === "self_signed_tls_client_auth"
  ) {
    return error(
      check,
      `"${client.clientId}" authenticates with its client certificate (${client.authMethod}), which the IdP does not list (it lists ${supported.join(", ")}).`,
      `enable ${client.authMethod} (mutual TLS, RFC 8705) for this client at the IdP, or choose a clientAuthMethod it lists`,
    );
  }
  const other = OTHER_SECRET_METHOD[client.authMethod];
  return error(
    check,
    `"${client.clientId}" authenticates with its secret by ${client.authMethod}, which the IdP does not support (it lists ${supported.join(", ")}).`,
    supported.includes(other)
      ? `set "clientAuthMethod": "${other}"`
      : "this IdP needs a client authentication this plugin does not send; use a public client with PKCE, or ask the IdP admin for client_secret_basic",
  );
}

/** The IdP's `Date` header against this machine's clock. */
export function checkClock(recorder: FetchRecorder): Finding[] {
  const seen = recorder.responses.find((r) => r.date && !Number.isNaN(Date.parse(r.date)));
  if (!seen?.date) return [];
  // Date has a one-second resolution; compare with the middle of the round trip.
  const local = (seen.sentAt + seen.receivedAt) / 2;
  const skew = Date.parse(seen.date) - local;
  if (Math.abs(skew) <= MAX_CLOCK_SKEW_MS) {
    return [ok("clock", "this machine's clock agrees with the IdP's (within 30 s)")];
  }
  return [
    warn(
      "clock",
      `the IdP's clock is ${formatDuration(skew)} ${skew > 0 ? "ahead of" : "behind"} this machine's.`,
      "sync this machine's clock (NTP): a skewed clock makes tokens look expired or not yet valid",
    ),
  ];
}
