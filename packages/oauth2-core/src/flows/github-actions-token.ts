import * as z from "zod/mini";
import { readJsonBounded } from "../bounded-json.js";
import { OAuth2Error } from "../errors.js";
import type { FetchLike } from "../fetch.js";
import { TransportError } from "../transport/failure.js";

/** What a GitHub Actions job gets from the runner when the workflow may request an ID token. */
export const GITHUB_URL_VARIABLE = "ACTIONS_ID_TOKEN_REQUEST_URL";
export const GITHUB_TOKEN_VARIABLE = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

/** The runner's answer: `{ "value": "<jwt>" }` (anything else in it is ignored). */
const GitHubAnswer = z.object({ value: z.string().check(z.minLength(1)) });

/** A JWT is a few KiB; an answer far larger than that is not GitHub's. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface GitHubTokenRequest {
  providerId: string;
  env: NodeJS.ProcessEnv;
  fetch: FetchLike;
  /** `aud` of the requested token; GitHub's default audience when undefined. */
  audience: string | undefined;
  timeoutMs: number;
}

const unavailable = (providerId: string, message: string, fix: string, cause?: unknown) =>
  new OAuth2Error({ code: "subject_token_unavailable", providerId, message, fix, cause });

/**
 * The request for the job's token, from the runner's variables: the URL (with `audience`) and
 * the request token it is sent with. Throws, with the workflow fix, when the job was not given
 * them. `doctor` calls it too, to check the variables without requesting a token.
 */
export function githubActionsRequest(
  request: Pick<GitHubTokenRequest, "providerId" | "env" | "audience">,
): { target: URL; bearer: string } {
  const fail = (message: string, fix: string, cause?: unknown) =>
    unavailable(request.providerId, message, fix, cause);
  const url = request.env[GITHUB_URL_VARIABLE]?.trim();
  const bearer = request.env[GITHUB_TOKEN_VARIABLE]?.trim();
  const missing = [
    url ? undefined : GITHUB_URL_VARIABLE,
    bearer ? undefined : GITHUB_TOKEN_VARIABLE,
  ].filter(Boolean);
  if (missing.length || !url || !bearer) {
    throw fail(
      `the GitHub Actions OIDC token cannot be requested: ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set.`,
      "is `permissions: id-token: write` set? The runner sets these variables only for a job (or workflow) with that permission, and only inside GitHub Actions",
    );
  }
  let target: URL;
  try {
    target = new URL(url);
  } catch (err) {
    throw fail(
      `${GITHUB_URL_VARIABLE} is not a URL.`,
      "run the job on a GitHub Actions runner",
      err,
    );
  }
  if (request.audience) target.searchParams.set("audience", request.audience);
  return { target, bearer };
}

/**
 * The job's OIDC token from the GitHub Actions runner: GET `$ACTIONS_ID_TOKEN_REQUEST_URL`
 * (plus `&audience=`) with `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`. The runner
 * sets both variables only when the workflow grants `permissions: id-token: write`. A fresh
 * token is requested at every renewal: GitHub's tokens live minutes, not hours.
 */
export async function githubActionsToken(request: GitHubTokenRequest): Promise<string> {
  const fail = (message: string, fix: string, cause?: unknown) =>
    unavailable(request.providerId, message, fix, cause);
  const { target, bearer } = githubActionsRequest(request);
  const where = `the GitHub Actions OIDC endpoint (${target.origin})`;
  let response: Response;
  try {
    response = await request.fetch(target.href, {
      headers: { authorization: `Bearer ${bearer}`, accept: "application/json" },
      signal: AbortSignal.timeout(request.timeoutMs),
      redirect: "error",
    });
  } catch (err) {
    if (err instanceof TransportError) throw fail(`${where}: ${err.detail}`, err.fix, err);
    throw fail(
      `${where} could not be reached.`,
      "check the runner's network and proxy settings (HTTPS_PROXY, NO_PROXY), or raise httpTimeoutMs",
      err,
    );
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw fail(
      `${where} answered HTTP ${response.status}.`,
      response.status === 401 || response.status === 403
        ? "the job's request token was refused: is `permissions: id-token: write` set, and is the step still inside the job that got it?"
        : "GitHub may have a problem; re-run the job, and check githubstatus.com if it persists",
    );
  }
  let body: unknown;
  try {
    body = await readJsonBounded(response, MAX_ANSWER_BYTES);
  } catch (err) {
    throw fail(
      `${where} sent an answer larger than ${MAX_ANSWER_BYTES} bytes.`,
      "check that ACTIONS_ID_TOKEN_REQUEST_URL points at the runner's OIDC endpoint",
      err,
    );
  }
  const parsed = GitHubAnswer.safeParse(body);
  if (!parsed.success) {
    throw fail(
      `${where} answered without a token (expected JSON with a "value").`,
      "check that ACTIONS_ID_TOKEN_REQUEST_URL points at the runner's OIDC endpoint",
    );
  }
  return parsed.data.value;
}
