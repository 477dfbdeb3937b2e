/**
 * Errors are values with a fix: every failure the engine reports says what failed, for which
 * provider, what the IdP said (when it said anything) and what the user does next. The CLI
 * message and the log event are both rendered from this one object.
 */

export type OAuth2ErrorCode =
  /** The provider's oauth2 config does not validate. */
  | "config_invalid"
  /** No usable token and the caller did not allow an interactive login. */
  | "login_required"
  /** Discovery document unreachable, invalid or for another issuer. */
  | "discovery_failed"
  /** The IdP answered with an OAuth error (`error` / `error_description`). */
  | "idp_error"
  /** The IdP refused the client without an OAuth error (an empty or non-JSON 401/403 at the
   * token endpoint, or 400 to a headless grant): wrong secret, or wrong `clientAuthMethod`. */
  | "client_refused"
  /** The IdP answered something that is not a valid OAuth response (HTML, bad JSON, 5xx). */
  | "idp_bad_response"
  /** The IdP could not be reached or did not answer within `httpTimeoutMs`. */
  | "idp_unreachable"
  /** The browser login did not come back to the loopback listener in time. */
  | "login_timeout"
  /** The user declined, or the device code expired. */
  | "login_aborted"
  /** The loopback listener could not bind (e.g. `redirectPort` in use). */
  | "loopback_failed"
  /** The subject token for token exchange (or jwt_bearer's assertion) could not be read, or
   * has expired. */
  | "subject_token_unavailable"
  /** The private key of `clientAssertion` (private_key_jwt) could not be read or does not fit. */
  | "client_key_invalid"
  /** The token cache could not be read or written. */
  | "cache_failed"
  /** A proxy or TLS failure before the IdP answered: proxy unreachable or refusing, an
   * untrusted server certificate, a client certificate required or refused, unreadable
   * `tls.*` files. */
  | "transport_failed";

export interface IdpErrorDetail {
  error: string;
  error_description?: string | undefined;
  status?: number | undefined;
}

/** An IdP endpoint, by its role in the protocol. */
export type IdpEndpoint =
  | "discovery"
  | "authorization"
  | "token"
  | "device_authorization"
  | "revocation"
  | "introspection"
  | "userinfo"
  | "jwks";

/**
 * What an IdP endpoint sent back when it was not what the protocol expects. Built only from the
 * response (never from what was sent), bounded and with token-looking strings redacted.
 */
export interface IdpAnswer {
  endpoint: IdpEndpoint;
  /** HTTP status; undefined when the answer came through the browser (authorization). */
  status?: number | undefined;
  /** Media type without parameters (`text/html`); undefined when none was sent. */
  contentType?: string | undefined;
  /** Up to 200 characters of the body (HTML as text); "" for an empty body; undefined when
   * it could not be read. */
  excerpt?: string | undefined;
  /** The `<title>` of an HTML page. */
  title?: string | undefined;
  /** The `WWW-Authenticate` challenge scheme(s), e.g. "Basic", when no OAuth error came with it. */
  challenge?: string | undefined;
  /** What was wrong with a 2xx body, e.g. `not valid JSON`, `no "access_token"`. */
  problem?: string | undefined;
}

const ENDPOINT_LABEL: Record<IdpEndpoint, string> = {
  discovery: "discovery document",
  authorization: "authorization endpoint",
  token: "token endpoint",
  device_authorization: "device authorization endpoint",
  revocation: "revocation endpoint",
  introspection: "introspection endpoint",
  userinfo: "userinfo endpoint",
  jwks: "JWKS endpoint",
};

/** "token endpoint", "discovery document"… */
export function endpointLabel(endpoint: IdpEndpoint): string {
  return ENDPOINT_LABEL[endpoint];
}

/**
 * The answer in one clause: `token endpoint answered HTTP 403, empty body`,
 * `token endpoint answered HTTP 200 (text/html, page "Sign in")`,
 * `token endpoint answered HTTP 400 (text/plain): "bad request"`. An HTML page is named by its
 * title only, never pasted.
 */
export function describeIdpAnswer(answer: IdpAnswer): string {
  const parts: string[] = [];
  if (answer.contentType) parts.push(answer.contentType);
  if (answer.title) parts.push(`page "${answer.title}"`);
  if (answer.challenge) parts.push(`WWW-Authenticate: ${answer.challenge}`);
  let text = `${endpointLabel(answer.endpoint)} answered`;
  text += answer.status === undefined ? "" : ` HTTP ${answer.status}`;
  if (parts.length) text += ` (${parts.join(", ")})`;
  if (answer.problem) text += `: ${answer.problem}`;
  else if (answer.excerpt === "") text += ", empty body";
  else if (answer.excerpt && answer.contentType !== "text/html") {
    text += `: "${answer.excerpt.length > 100 ? `${answer.excerpt.slice(0, 99)}…` : answer.excerpt}"`;
  }
  return text;
}

export interface OAuth2ErrorInit {
  code: OAuth2ErrorCode;
  providerId?: string | undefined;
  /** What failed, in one sentence, without any secret. */
  message: string;
  /** What the user does next. */
  fix: string;
  idp?: IdpErrorDetail | undefined;
  /** What the IdP sent back, when it was not what the protocol expects. */
  answer?: IdpAnswer | undefined;
  cause?: unknown;
}

export class OAuth2Error extends Error {
  override readonly name = "OAuth2Error";
  readonly code: OAuth2ErrorCode;
  readonly providerId: string | undefined;
  readonly fix: string;
  readonly idp: IdpErrorDetail | undefined;
  readonly answer: IdpAnswer | undefined;
  /** The message without provider prefix or fix, for structured logs. */
  readonly detail: string;
  /** What failed and what the IdP answered: the message without provider prefix and fix. */
  readonly summary: string;

  constructor(init: OAuth2ErrorInit) {
    const who = init.providerId ? `provider "${init.providerId}": ` : "";
    const summary = `${init.message}${answerSentence(init)}`;
    super(`${who}${summary} Fix: ${init.fix}`, { cause: init.cause });
    this.summary = summary;
    this.code = init.code;
    this.providerId = init.providerId;
    this.fix = init.fix;
    this.idp = init.idp;
    this.answer = init.answer;
    this.detail = init.message;
  }

  /** Fields for a structured log record (never contains a secret). */
  toLogFields(): Record<string, unknown> {
    return {
      provider: this.providerId,
      error_code: this.code,
      error: this.idp?.error,
      error_description: this.idp?.error_description,
      endpoint: this.answer?.endpoint,
      status: this.answer?.status ?? this.idp?.status,
      content_type: this.answer?.contentType,
      body_excerpt: this.answer?.excerpt,
      page_title: this.answer?.title,
      challenge: this.answer?.challenge,
      problem: this.answer?.problem,
      detail: this.detail,
      fix: this.fix,
    };
  }
}

/** " The token endpoint answered HTTP 400: invalid_grant (…)." or " The IdP answered: …". */
function answerSentence({ idp, answer }: OAuth2ErrorInit): string {
  if (idp) {
    const said = `${idp.error}${idp.error_description ? ` (${idp.error_description})` : ""}`;
    const status = answer?.status ?? idp.status;
    if (answer && status !== undefined) {
      return ` The ${endpointLabel(answer.endpoint)} answered HTTP ${status}: ${said}.`;
    }
    return ` The IdP answered: ${said}.`;
  }
  if (!answer) return "";
  const text = describeIdpAnswer(answer);
  return ` The ${text}.`;
}

export function isOAuth2Error(value: unknown): value is OAuth2Error {
  return value instanceof OAuth2Error;
}

/** The command that logs a provider in from a terminal. */
export function loginCommand(providerId: string): string {
  return `opencode-oauth2 login ${providerId}`;
}
