import {
  AnswerTooLarge,
  describeBytes,
  type FetchLike,
  readTextBounded,
} from "@vymalo/oauth2-core";
import { isModelsInfoError, type ModelsInfoError, modelsInfoError } from "./errors.js";

export type { FetchLike };

/**
 * OpenRouter's whole catalogue is about 1 MiB; a document many times that is not a model list
 * but a broken or hostile endpoint, and is refused before it can fill opencode's memory.
 */
export const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;

/** Where the bearer comes from: the shared token engine for managed providers. */
export interface BearerSource {
  /** The current token. Throws {@link ModelsInfoError} when none can be had without a prompt. */
  token(): Promise<string>;
  /** The server refused `rejected`: drop it and return a new one. */
  renew(rejected: string): Promise<string>;
}

export type FetchResult =
  | { status: "ok"; body: unknown; etag?: string | undefined }
  | { status: "not_modified" };

export interface FetchJsonInput {
  url: string;
  /** Sent as If-None-Match; a 304 answer is then `not_modified`. */
  etag?: string | undefined;
  bearer?: BearerSource | undefined;
  fetch: FetchLike;
  /** Aborts the request; its `reason` (a ModelsInfoError) is what the call rejects with. */
  signal: AbortSignal;
  /** Called before the one retry that follows a 401. */
  onUnauthorized?: () => void;
}

/** Rejects with the signal's reason as soon as it aborts (also for work that ignores signals). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function send(input: FetchJsonInput, token: string | undefined): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (input.etag) headers["if-none-match"] = input.etag;
  try {
    return await input.fetch(input.url, { headers, signal: input.signal, redirect: "follow" });
  } catch (err) {
    if (input.signal.aborted && isModelsInfoError(input.signal.reason)) throw input.signal.reason;
    throw modelsInfoError("unreachable", `GET ${input.url} failed: ${String(err)}`, {
      cause: err,
    });
  }
}

/**
 * GETs a JSON resource with the bearer (when there is one) and ETag revalidation. A 401 renews
 * the token once and retries once; the second answer is final. Every failure is a
 * {@link ModelsInfoError}.
 */
export async function fetchJson(input: FetchJsonInput): Promise<FetchResult> {
  const { url, bearer } = input;
  let token = bearer ? await untilAborted(bearer.token(), input.signal) : undefined;
  let response = await send(input, token);
  if (response.status === 401 && bearer && token) {
    await response.body?.cancel().catch(() => {});
    input.onUnauthorized?.();
    token = await untilAborted(bearer.renew(token), input.signal);
    response = await send(input, token);
  }
  if (response.status === 304 && input.etag) {
    await response.body?.cancel().catch(() => {});
    return { status: "not_modified" };
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    const code = response.status === 401 ? "unauthorized" : "http_error";
    throw modelsInfoError(code, `GET ${url} answered HTTP ${response.status}`, {
      status: response.status,
    });
  }
  let text: string;
  try {
    text = await readTextBounded(response, MAX_DOCUMENT_BYTES);
  } catch (err) {
    if (input.signal.aborted && isModelsInfoError(input.signal.reason)) throw input.signal.reason;
    if (err instanceof AnswerTooLarge) {
      throw modelsInfoError(
        "document_invalid",
        `${url} sent more than ${describeBytes(MAX_DOCUMENT_BYTES)}, more than any model document; the rest was not read`,
        {
          status: response.status,
          fix: "serve a smaller document: only the models of this provider",
        },
      );
    }
    throw modelsInfoError("unreachable", `reading ${url} failed: ${String(err)}`, { cause: err });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw modelsInfoError(
      "document_invalid",
      `${url} did not answer JSON (${text.slice(0, 60).replace(/\s+/g, " ")}…)`,
      { status: response.status, cause: err },
    );
  }
  return { status: "ok", body, etag: response.headers.get("etag") ?? undefined };
}

/** The signal of a deadline: it aborts with a `timeout` error after `ms`. */
export function deadline(ms: number, what: string): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(modelsInfoError("timeout", `${what} did not answer within ${ms} ms`)),
    ms,
  );
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
