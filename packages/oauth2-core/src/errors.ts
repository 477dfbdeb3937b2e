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
  /** The subject token for token exchange could not be read. */
  | "subject_token_unavailable"
  /** The token cache could not be read or written. */
  | "cache_failed";

export interface IdpErrorDetail {
  error: string;
  error_description?: string | undefined;
  status?: number | undefined;
}

export interface OAuth2ErrorInit {
  code: OAuth2ErrorCode;
  providerId?: string | undefined;
  /** What failed, in one sentence, without any secret. */
  message: string;
  /** What the user does next. */
  fix: string;
  idp?: IdpErrorDetail | undefined;
  cause?: unknown;
}

export class OAuth2Error extends Error {
  override readonly name = "OAuth2Error";
  readonly code: OAuth2ErrorCode;
  readonly providerId: string | undefined;
  readonly fix: string;
  readonly idp: IdpErrorDetail | undefined;
  /** The message without provider prefix or fix, for structured logs. */
  readonly detail: string;

  constructor(init: OAuth2ErrorInit) {
    const idpPart = init.idp
      ? ` The IdP answered: ${init.idp.error}${init.idp.error_description ? ` (${init.idp.error_description})` : ""}.`
      : "";
    const who = init.providerId ? `provider "${init.providerId}": ` : "";
    super(`${who}${init.message}${idpPart} Fix: ${init.fix}`, { cause: init.cause });
    this.code = init.code;
    this.providerId = init.providerId;
    this.fix = init.fix;
    this.idp = init.idp;
    this.detail = init.message;
  }

  /** Fields for a structured log record (never contains a secret). */
  toLogFields(): Record<string, unknown> {
    return {
      provider: this.providerId,
      error_code: this.code,
      error: this.idp?.error,
      error_description: this.idp?.error_description,
      status: this.idp?.status,
      detail: this.detail,
      fix: this.fix,
    };
  }
}

export function isOAuth2Error(value: unknown): value is OAuth2Error {
  return value instanceof OAuth2Error;
}

/** The command that logs a provider in from a terminal. */
export function loginCommand(providerId: string): string {
  return `opencode-oauth2 login ${providerId}`;
}

/** How to log in, in words, for messages shown inside opencode. */
export function loginHint(providerId: string): string {
  return `run \`opencode auth login\` and choose "${providerId}", or \`${loginCommand(providerId)}\``;
}
