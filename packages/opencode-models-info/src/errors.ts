/**
 * Why a models-info document (or a model list) could not be had, as a value with a fix. The log
 * event is rendered from it; nothing here ever carries a token.
 */
export type ModelsInfoErrorCode =
  /** `modelsInfoUrl` cannot be resolved (relative without `baseURL`, not http/https). */
  | "url_invalid"
  /** The provider is oauth2-managed but has no token, and a start never prompts. */
  | "login_required"
  /** The provider's oauth2 block is invalid, so no token can be had for it. */
  | "oauth2_config_invalid"
  /** The IdP failed while getting a token (unreachable, error, bad answer). */
  | "token_unavailable"
  /** The endpoint answered 401, also after one refresh and retry. */
  | "unauthorized"
  /** The endpoint answered another non-success status. */
  | "http_error"
  /** The endpoint could not be reached. */
  | "unreachable"
  /** No answer within the provider's timeout. */
  | "timeout"
  /** The answer is not JSON, or not a model document / model list. */
  | "document_invalid";

export interface ModelsInfoErrorInit {
  code: ModelsInfoErrorCode;
  /** What failed, in one sentence. */
  message: string;
  /** What the user does next. */
  fix: string;
  status?: number | undefined;
  cause?: unknown;
}

export class ModelsInfoError extends Error {
  override readonly name = "ModelsInfoError";
  readonly code: ModelsInfoErrorCode;
  readonly fix: string;
  readonly status: number | undefined;

  constructor(init: ModelsInfoErrorInit) {
    super(init.message, { cause: init.cause });
    this.code = init.code;
    this.fix = init.fix;
    this.status = init.status;
  }

  /** Fields for a structured log record. */
  toLogFields(): Record<string, unknown> {
    return { error_code: this.code, status: this.status, detail: this.message, fix: this.fix };
  }
}

const FIXES: Record<ModelsInfoErrorCode, string> = {
  url_invalid:
    "set options.meta.modelsInfoUrl to an absolute http(s) URL, or set options.baseURL for a relative one",
  login_required: "log in (see the command in the event); the next start fetches the metadata",
  oauth2_config_invalid: "fix the provider's oauth2 block (see the oauth2_config_invalid event)",
  token_unavailable: "check the IdP is reachable and the oauth2 settings are right",
  unauthorized:
    "the endpoint refuses this user's token: check its audience/scopes, or set options.meta.modelsInfoAuth",
  http_error: "check the endpoint serves the models document at this URL",
  unreachable: "check the URL and that the server is up",
  timeout: "check the server's health, or raise options.meta.modelsInfoTimeoutMs",
  document_invalid:
    'serve JSON shaped like OpenRouter\'s /models: { "data": [ { "id": … } ] } or a bare array',
};

/** A {@link ModelsInfoError} with the standard fix for its code. */
export function modelsInfoError(
  code: ModelsInfoErrorCode,
  message: string,
  extra: { status?: number; cause?: unknown; fix?: string } = {},
): ModelsInfoError {
  return new ModelsInfoError({
    code,
    message,
    fix: extra.fix ?? FIXES[code],
    status: extra.status,
    cause: extra.cause,
  });
}

export const isModelsInfoError = (value: unknown): value is ModelsInfoError =>
  value instanceof ModelsInfoError;
