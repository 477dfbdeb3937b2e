import {
  AuthorizationResponseError,
  type Configuration,
  ResponseBodyError,
  WWWAuthenticateChallengeError,
} from "openid-client";
import { CLIENT_AUTH_METHODS } from "../config/schema.js";
import { type IdpAnswer, type IdpEndpoint, loginCommand, OAuth2Error } from "../errors.js";
import { TransportError } from "../transport/failure.js";
import { type RefusedClient, refusedClientFix, refusedClientMessage } from "./client-refused.js";
import { answerFromError, oauthErrorInBody, redactSecrets } from "./idp-answer.js";

export type { RefusedClient } from "./client-refused.js";

/** What the engine was doing when the IdP refused; shapes the fix we suggest. */
export type ProtocolStep =
  | "discovery"
  | "authorization"
  | "code_exchange"
  | "device_authorization"
  | "device_poll"
  | "refresh"
  | "client_credentials"
  | "token_exchange"
  | "jwt_bearer"
  | "revocation";

const STEP_LABEL: Record<ProtocolStep, string> = {
  discovery: "fetching the IdP's discovery document",
  authorization: "the browser login",
  code_exchange: "exchanging the authorization code",
  device_authorization: "starting the device login",
  device_poll: "waiting for the device login",
  refresh: "refreshing the access token",
  client_credentials: "the client-credentials grant",
  token_exchange: "the token-exchange grant",
  jwt_bearer: "the JWT bearer grant",
  revocation: "revoking the refresh token",
};

/** The endpoint each step talks to. */
export const STEP_ENDPOINT: Record<ProtocolStep, IdpEndpoint> = {
  discovery: "discovery",
  authorization: "authorization",
  code_exchange: "token",
  device_authorization: "device_authorization",
  device_poll: "token",
  refresh: "token",
  client_credentials: "token",
  token_exchange: "token",
  jwt_bearer: "token",
  revocation: "revocation",
};

/** The client an openid-client Configuration authenticates as, for error messages. */
export function clientOf(config: Configuration): RefusedClient {
  const meta = config.clientMetadata();
  const method = meta.token_endpoint_auth_method;
  return {
    clientId: meta.client_id,
    authMethod:
      method === "none" || (CLIENT_AUTH_METHODS as readonly unknown[]).includes(method)
        ? (method as RefusedClient["authMethod"])
        : "client_secret_basic",
  };
}

/**
 * The next step for an OAuth error code, in the user's terms. Matches RFC 6749 §5.2,
 * RFC 8628 §3.5 and the quirks real IdPs are known for.
 */
function fixFor(
  error: string,
  description: string,
  step: ProtocolStep,
  providerId: string,
  client: RefusedClient | undefined,
): string {
  const relogin = `log in again: ${loginCommand(providerId)}`;
  if (/code_challenge|pkce/i.test(description)) {
    return error === "invalid_request" && /missing|required/i.test(description)
      ? 'this IdP requires PKCE: set "pkce": true (the default)'
      : 'this IdP does not accept PKCE parameters: set "pkce": false';
  }
  switch (error) {
    case "invalid_client":
      // The client sent an assertion: a description naming client_assertion (Okta's "The
      // client_assertion signature is invalid.") is about it, not about a public client.
      if (client?.authMethod === "private_key_jwt" || client?.authMethod === "client_secret_jwt") {
        return refusedClientFix(client);
      }
      if (/public|client_secret|client_assertion/i.test(description)) {
        return 'the IdP treats this client as public: remove clientSecret (or set "clientType": "public")';
      }
      return client && client.authMethod !== "none"
        ? refusedClientFix(client)
        : 'check clientId and clientSecret; a public client must not send a secret ("clientType": "public"), a confidential one must';
    case "unauthorized_client":
      return "the IdP does not allow this grant for this client: enable it on the client at the IdP, or choose another authFlow";
    case "invalid_scope":
      return "remove scopes the client may not request, or allow them on the client at the IdP";
    case "invalid_target":
      return "check audience/resource: the IdP does not know that resource for this client";
    case "access_denied":
      return step === "device_poll" || step === "authorization"
        ? `the login was declined; ${relogin}`
        : "the IdP refused access for this client or user; ask an IdP administrator";
    case "expired_token":
      return `the device code expired before it was approved; ${relogin}`;
    case "invalid_grant":
      if (step === "jwt_bearer") {
        return "the IdP refused the assertion: check that it trusts the assertion's issuer, audience and subject for this client (and that the token has not expired)";
      }
      return step === "client_credentials" || step === "token_exchange"
        ? "the IdP refused the credentials or subject token; check them"
        : `the code or refresh token is no longer valid; ${relogin}`;
    case "invalid_request":
      return "the IdP rejected the request; check the provider's oauth2 settings (opencode-oauth2 doctor)";
    case "temporarily_unavailable":
    case "server_error":
      return "the IdP has a problem; try again later";
    default:
      return `check the IdP's logs for this error; ${relogin}`;
  }
}

const NETWORK_CODES =
  /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE|UND_ERR_|ConnectionRefused|ConnectionClosed|FailedToOpenSocket|UnableToConnect)/;

function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 6; depth += 1) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** 401/403 where the client authenticates, or 400 to a grant that is nothing but the client. */
function isRefusedClient(answer: IdpAnswer, step: ProtocolStep): boolean {
  const authenticates = ["token", "device_authorization", "revocation"].includes(answer.endpoint);
  if (!authenticates || answer.status === undefined) return false;
  if (answer.status === 401 || answer.status === 403) return true;
  return answer.status === 400 && (step === "client_credentials" || step === "token_exchange");
}

/** The fix for a 4xx without an OAuth error, by what was being done. */
function refusedWithoutReason(step: ProtocolStep, providerId: string): string {
  const relogin = `log in again: ${loginCommand(providerId)}`;
  switch (step) {
    case "refresh":
      return `the IdP did not say the refresh token is invalid; if this repeats, ${relogin}`;
    case "code_exchange":
    case "device_poll":
      return `start the login again; if it repeats, run opencode-oauth2 doctor for this provider (${relogin})`;
    case "discovery":
      return "check the issuer URL: the IdP serves no discovery document there";
    default:
      return "run opencode-oauth2 doctor for this provider";
  }
}

/** An answer that is not an OAuth response (no JSON `error`): named by what came back. */
function nonOAuthAnswer(
  answer: IdpAnswer,
  step: ProtocolStep,
  providerId: string,
  client: RefusedClient | undefined,
  cause: unknown,
): OAuth2Error {
  const label = STEP_LABEL[step];
  const base = { providerId, answer, cause };
  if (isRefusedClient(answer, step)) {
    // A challenge without an OAuth error is what a proxy in front of the IdP sends, too.
    const proxy = answer.challenge
      ? "a proxy in front of the IdP may want credentials (it sent that WWW-Authenticate challenge): check the proxy settings (HTTPS_PROXY, NO_PROXY) and that the token endpoint reaches the IdP; otherwise "
      : "";
    return new OAuth2Error({
      ...base,
      code: "client_refused",
      message: refusedClientMessage(client, answer, label),
      fix: `${proxy}${refusedClientFix(client)}`,
    });
  }
  const status = answer.status ?? 0;
  if (status >= 500) {
    return new OAuth2Error({
      ...base,
      code: "idp_bad_response",
      message: `the IdP failed ${label}.`,
      fix: "the IdP or a proxy in front of it has a problem; try again later, and check the IdP's health if it persists",
    });
  }
  if (status >= 400) {
    return new OAuth2Error({
      ...base,
      code: "idp_bad_response",
      message: `the IdP refused ${label} without an OAuth error.`,
      fix: refusedWithoutReason(step, providerId),
    });
  }
  return new OAuth2Error({
    ...base,
    code: "idp_bad_response",
    message: `the IdP sent an invalid response (${label}).`,
    fix: "the IdP or a proxy in front of it answered something that is not OAuth (an HTML page, a 5xx, invalid JSON); check the issuer URL and the IdP's health",
  });
}

/**
 * Turns whatever openid-client (or fetch) threw into an {@link OAuth2Error} with the IdP's own
 * `error` / `error_description`, or — when the IdP sent no OAuth error — what it did send
 * (endpoint, status, content type, a redacted excerpt). Messages are built only from what came
 * back, never from a request body, so no code, verifier, secret or token can leak into them.
 * `client` (see {@link clientOf}) names the client and its auth method in the fix.
 */
export function toOAuth2Error(
  err: unknown,
  step: ProtocolStep,
  providerId: string,
  client?: RefusedClient,
): OAuth2Error {
  if (err instanceof OAuth2Error) return err;
  const label = STEP_LABEL[step];
  const transport = causeChain(err).find((link) => link instanceof TransportError);
  if (transport instanceof TransportError) {
    return new OAuth2Error({
      code: "transport_failed",
      providerId,
      message: `${label} failed: ${transport.detail}`,
      fix: transport.fix,
      cause: transport,
    });
  }
  const endpoint = STEP_ENDPOINT[step];
  if (err instanceof ResponseBodyError || err instanceof AuthorizationResponseError) {
    const description = err.error_description && redactSecrets(err.error_description);
    return new OAuth2Error({
      code: "idp_error",
      providerId,
      message: `the IdP refused ${label}.`,
      fix: fixFor(err.error, description ?? "", step, providerId, client),
      idp: {
        error: err.error,
        error_description: description,
        status: err instanceof ResponseBodyError ? err.status : undefined,
      },
      answer: err instanceof ResponseBodyError ? answerFromError(err, endpoint) : undefined,
    });
  }
  if (err instanceof WWWAuthenticateChallengeError) {
    const challenge = err.cause.find((c) => c.parameters.error);
    if (challenge) {
      const error = challenge.parameters.error as string;
      const description =
        challenge.parameters.error_description &&
        redactSecrets(challenge.parameters.error_description);
      return new OAuth2Error({
        code: "idp_error",
        providerId,
        message: `the IdP refused ${label}.`,
        fix: fixFor(error, description ?? "", step, providerId, client),
        idp: { error, error_description: description, status: err.status },
        answer: answerFromError(err, endpoint),
      });
    }
    // A challenge without an OAuth error (a proxy's `Basic realm=…`): judged by what came back.
    const answer = answerFromError(err, endpoint) ?? { endpoint, status: err.status };
    return nonOAuthAnswer(answer, step, providerId, client, err);
  }
  for (const link of causeChain(err)) {
    const name = (link as { name?: string }).name;
    if (name === "TimeoutError" || name === "AbortError") {
      return new OAuth2Error({
        code: "idp_unreachable",
        providerId,
        message: `the IdP did not answer in time (${label}).`,
        fix: "check the IdP is up and reachable, or raise httpTimeoutMs",
        cause: err,
      });
    }
    const code = (link as { code?: string }).code;
    // Node (undici) codes, and Bun's (opencode runs plugins on Bun).
    if (code && NETWORK_CODES.test(code)) {
      return new OAuth2Error({
        code: "idp_unreachable",
        providerId,
        message: `the IdP could not be reached (${label}: ${code}).`,
        fix: "check the issuer URL, your network and proxy settings, and that the IdP is up",
        cause: err,
      });
    }
  }
  // An id_token encrypted to a key this client never registered (e.g. an Authentik provider
  // with an Encryption Key set): openid-client cannot read it. Its error's cause is the token
  // itself, so the cause is not kept.
  if (causeChain(err).some((l) => l instanceof Error && /JWE decryption/i.test(l.message))) {
    return new OAuth2Error({
      code: "idp_bad_response",
      providerId,
      message: `the IdP sent an encrypted id_token (JWE) that this client cannot decrypt (${label}).`,
      fix: "turn off ID token encryption for this client at the IdP (Authentik: remove the Encryption Key in the provider's settings), then log in again",
    });
  }
  const answer = answerFromError(err, endpoint);
  const said = answer && oauthErrorInBody(err);
  if (answer && said) {
    return new OAuth2Error({
      code: "idp_error",
      providerId,
      message: `the IdP refused ${label}.`,
      fix: fixFor(said.error, said.error_description ?? "", step, providerId, client),
      idp: { ...said, status: answer.status },
      answer,
    });
  }
  if (answer) return nonOAuthAnswer(answer, step, providerId, client, err);
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code?.startsWith("OAUTH_") || /fetch failed/i.test(message)) {
    const unreachable = /fetch failed/i.test(message);
    return new OAuth2Error({
      code: unreachable ? "idp_unreachable" : "idp_bad_response",
      providerId,
      message: unreachable
        ? `the IdP could not be reached (${label}).`
        : `the IdP sent an invalid response (${label}: ${code}: ${message}).`,
      fix: unreachable
        ? "check the issuer URL, your network and proxy settings, and that the IdP is up"
        : "the IdP or a proxy in front of it answered something that is not OAuth (an HTML page, a 5xx, invalid JSON); check the issuer URL and the IdP's health",
      cause: err,
    });
  }
  return new OAuth2Error({
    code: "idp_bad_response",
    providerId,
    message: `${label} failed: ${message}`,
    fix: "run opencode-oauth2 doctor for this provider",
    cause: err,
  });
}
