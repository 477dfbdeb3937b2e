import type { IdpAnswer, IdpEndpoint } from "../errors.js";
import type { FetchLike } from "../fetch.js";

/** How much of an unexpected body is read (the rest is left to openid-client) and shown. */
const READ_LIMIT_BYTES = 8 * 1024;
const EXCERPT_CHARS = 200;

/**
 * Bodies of answers that were not what the protocol expects, read by {@link capturingFetch}
 * before openid-client consumed them. openid-client keeps the Response on its errors
 * (`ResponseBodyError.response`, `WWWAuthenticateChallengeError.response`, or as the `cause`
 * of a ClientError for a non-JSON or unexpected-status answer) but has often read its body by
 * then; the excerpt is looked up here by that Response.
 */
const excerpts = new WeakMap<Response, string>();

/** JWTs and long credential-looking runs (opaque tokens, codes, secrets). */
const SECRETISH = /eyJ[\w-]+\.[\w-]+\.[\w-]*|[A-Za-z0-9._~+/-]{24,}=*/g;

/** Replaces token-looking substrings with `[redacted]`. */
export function redactSecrets(text: string): string {
  return text.replace(SECRETISH, "[redacted]");
}

const mediaType = (response: Response): string | undefined =>
  response.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() || undefined;

const isJson = (type: string | undefined) =>
  type !== undefined && (type === "application/json" || type.endsWith("+json"));

function htmlTitle(html: string): string | undefined {
  const title = /<title[^>]*>([^<]*)</i.exec(html)?.[1]?.replace(/\s+/g, " ").trim();
  return title ? redactSecrets(title).slice(0, 80) : undefined;
}

/** A body as a bounded, single-line, secret-free excerpt (HTML reduced to its text). */
export function excerptOf(body: string, contentType: string | undefined): string {
  let text = body;
  if (contentType === "text/html" || /^\s*</.test(text)) {
    text = text
      .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, " ")
      .replace(/<[^>]*>/g, " ")
      .replace(/&(lt|gt|amp|quot|#39);/g, " ");
  }
  text = redactSecrets(
    text
      .replace(/\p{Cc}+/gu, " ")
      .replace(/\s+/g, " ")
      .trim(),
  );
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS - 1)}…` : text;
}

async function readStart(response: Response): Promise<string> {
  const reader = response.clone().body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < READ_LIMIT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // Aborted (timeout) or reset: keep what arrived.
  } finally {
    reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, READ_LIMIT_BYTES));
}

/**
 * Wraps the fetch openid-client uses so that an answer that is not a successful JSON one (a
 * 4xx/5xx, an HTML page) has the start of its body kept for the error message. A successful
 * JSON answer — the one that carries tokens — is never read here.
 */
export function capturingFetch(fetchImpl: FetchLike): FetchLike {
  return async (url, init) => {
    const response = await fetchImpl(url, init);
    if (response.status >= 400 || !isJson(mediaType(response))) {
      excerpts.set(response, await readStart(response));
    }
    return response;
  };
}

/**
 * A Response by its tag, not its class: one sent through a proxy comes from npm undici's fetch
 * (`platformFetch`), whose Response class is not the global one on every Node line.
 */
const isResponse = (value: unknown): value is Response =>
  typeof value === "object" &&
  value !== null &&
  (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "Response";

function responseOf(err: unknown): Response | undefined {
  for (let link = err, depth = 0; link && depth < 4; depth += 1) {
    if (isResponse(link)) return link;
    const response = (link as { response?: unknown }).response;
    if (isResponse(response)) return response;
    link = (link as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What openid-client says was wrong with a 2xx body it could not use. */
function bodyProblem(err: unknown): string | undefined {
  const code = (err as { code?: string }).code;
  if (code === "OAUTH_PARSE_ERROR") return "not valid JSON";
  if (code === "OAUTH_INVALID_RESPONSE") {
    const inner = (err as { cause?: { message?: string } }).cause?.message ?? "";
    const field = /"response" body "([\w.]+)" property/.exec(inner)?.[1];
    return field ? `no valid "${field}" in the JSON` : "JSON that is not a valid OAuth response";
  }
  return undefined;
}

/**
 * What the IdP sent back, as far as openid-client's error still shows it: status, content type,
 * the body excerpt kept by {@link capturingFetch}, an HTML page's title, a challenge without
 * an OAuth error. Undefined when the error is not about an answer (network, timeout).
 */
export function answerFromError(err: unknown, endpoint: IdpEndpoint): IdpAnswer | undefined {
  const response = responseOf(err);
  if (!response) {
    const problem = bodyProblem(err);
    // Only a 200 JSON answer gets this far in openid-client before its body is judged.
    return problem
      ? { endpoint, status: 200, contentType: "application/json", problem }
      : undefined;
  }
  return answerOf(response, excerpts.get(response), endpoint);
}

/** Status, content type, excerpt and page title of `body` (when read), challenge. */
function answerOf(response: Response, body: string | undefined, endpoint: IdpEndpoint): IdpAnswer {
  const contentType = mediaType(response);
  const answer: IdpAnswer = { endpoint, status: response.status, contentType };
  if (body !== undefined) {
    answer.excerpt = excerptOf(body, contentType);
    if (contentType === "text/html") answer.title = htmlTitle(body);
  }
  const challenge = response.headers.get("www-authenticate");
  if (challenge && !/\berror\s*=/.test(challenge)) {
    answer.challenge = redactSecrets(challenge).slice(0, 80);
  }
  return answer;
}

type OAuthErrorBody = { error: string; error_description?: string | undefined };

/** `{ error, error_description }` of a JSON body, redacted; undefined when it is not one. */
function oauthErrorOf(body: string, contentType: string | undefined): OAuthErrorBody | undefined {
  if (!isJson(contentType)) return undefined;
  try {
    const json: unknown = JSON.parse(body);
    if (typeof json !== "object" || json === null) return undefined;
    const { error, error_description } = json as Record<string, unknown>;
    if (typeof error !== "string" || !/^[\x20-\x7e]{1,64}$/.test(error)) return undefined;
    return {
      error,
      error_description:
        typeof error_description === "string"
          ? redactSecrets(error_description).slice(0, 300)
          : undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * The OAuth error in the body of an answer openid-client did not read as one — it only looks
 * for `error` in 4xx answers, so a `503 {"error":"temporarily_unavailable"}` (RFC 6749 §5.2
 * lets servers say so) reaches us as an unexpected status.
 */
export function oauthErrorInBody(err: unknown): OAuthErrorBody | undefined {
  const response = responseOf(err);
  const body = response && excerpts.get(response);
  if (!body) return undefined;
  return oauthErrorOf(body, mediaType(response));
}

/**
 * An answer read directly (not through openid-client), e.g. of the authorization endpoint to
 * a request sent with `redirect: "manual"`: the same bounded, redacted description, and the
 * OAuth error when the body is one. Reads at most 8 KiB of the body.
 */
export async function readIdpAnswer(
  response: Response,
  endpoint: IdpEndpoint,
): Promise<{ answer: IdpAnswer; said?: OAuthErrorBody | undefined }> {
  const body = await readStart(response);
  return {
    answer: answerOf(response, body, endpoint),
    said: oauthErrorOf(body, mediaType(response)),
  };
}
