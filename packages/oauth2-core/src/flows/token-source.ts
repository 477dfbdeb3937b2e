import { readFile } from "node:fs/promises";
import * as client from "openid-client";
import {
  KUBERNETES_TOKEN_FILE,
  type SubjectTokenOptions,
  type TokenSourceKind,
} from "../config/credentials.js";
import type { ProviderConfig } from "../config/schema.js";
import { OAuth2Error } from "../errors.js";
import type { FetchLike } from "../fetch.js";
import { type CoreEvent, fingerprint, type Logger } from "../log.js";
import { clientOf, toOAuth2Error } from "../oidc/protocol-errors.js";
import { outboundFetch } from "../transport/outbound.js";
import { githubActionsToken } from "./github-actions-token.js";
import { grantParams } from "./grant-params.js";
import { peekJwtClaims } from "./token-response.js";

/**
 * The token a workload presents without a stored secret: token_exchange's `subject_token`,
 * jwt_bearer's `assertion`. It is read afresh at every renewal, from wherever `subjectToken`
 * says — a CI platform rotates these tokens (a projected service-account token is rewritten on
 * disk, a GitHub Actions token lives minutes), so a copy kept in memory would go stale.
 */

export interface TokenSourceContext {
  env: NodeJS.ProcessEnv;
  fetch?: FetchLike | undefined;
  /** The engine's clock, to say an expired token is expired before the IdP refuses it. */
  now?: (() => number) | undefined;
  logger?: Logger<CoreEvent> | undefined;
}

/** A source's kind, with file/env implied by which of them is set. */
export function sourceKindOf(source: SubjectTokenOptions): TokenSourceKind {
  return source.source ?? (source.env ? "env" : "file");
}

/** The kind of the provider's `subjectToken`, if it has one. */
export function tokenSourceOf(provider: ProviderConfig): TokenSourceKind | undefined {
  return provider.subjectToken && sourceKindOf(provider.subjectToken);
}

/** Reads the subject token (or assertion) afresh from the provider's `subjectToken`. */
export function readSubjectToken(
  provider: ProviderConfig,
  context: TokenSourceContext = { env: process.env },
): Promise<string> {
  if (!provider.subjectToken) {
    throw new OAuth2Error({
      code: "subject_token_unavailable",
      providerId: provider.id,
      message: "no subjectToken is configured.",
      fix: 'set subjectToken { "file": … }, { "env": … } or { "source": "github-actions" | "kubernetes" }',
    });
  }
  return readWorkloadToken(provider, provider.subjectToken, context);
}

/** Reads a workload token afresh from `source`. */
export async function readWorkloadToken(
  provider: Pick<ProviderConfig, "id" | "httpTimeoutMs">,
  source: SubjectTokenOptions,
  { env, fetch: fetchImpl, now, logger }: TokenSourceContext,
): Promise<string> {
  const kind = sourceKindOf(source);
  const fail = (message: string, fix: string) =>
    new OAuth2Error({ code: "subject_token_unavailable", providerId: provider.id, message, fix });
  let token: string;
  let from: string;
  if (kind === "github-actions") {
    token = await githubActionsToken({
      providerId: provider.id,
      env,
      // Through the one outbound transport: a runner behind a proxy reaches GitHub through it.
      fetch: outboundFetch({ base: fetchImpl, logger, providerId: provider.id }),
      audience: source.audience,
      timeoutMs: provider.httpTimeoutMs,
    });
    from = "GitHub Actions";
  } else if (kind === "env") {
    const name = source.env as string;
    const value = env[name]?.trim();
    if (!value) {
      throw fail(
        `the environment variable ${name} is empty or unset.`,
        `export ${name} with the subject token`,
      );
    }
    token = value;
    from = `the environment variable ${name}`;
  } else {
    const file = source.file ?? KUBERNETES_TOKEN_FILE;
    let why = "it is empty";
    try {
      token = (await readFile(file, "utf8")).trim();
    } catch (err) {
      // ENOENT (not mounted, wrong path) and EACCES (another user's file) have different fixes.
      why = (err as NodeJS.ErrnoException).code ?? "unreadable";
      token = "";
    }
    if (!token) {
      throw fail(
        `could not read the subject token from ${file} (${why}).`,
        kind === "kubernetes"
          ? "check that the pod mounts a service-account token there (automountServiceAccountToken, or a projected serviceAccountToken volume) and set subjectToken.file to its path"
          : "check the file exists, is readable and not empty",
      );
    }
    from = file;
  }
  const exp = peekJwtClaims(token)?.exp;
  // Which token a renewal sent, by fingerprint: shows whether a rotated file was picked up.
  logger?.emit("oauth2_subject_token_read", {
    provider: provider.id,
    source: kind,
    from,
    fingerprint: fingerprint(token),
    expiresAt: typeof exp === "number" ? exp * 1000 : undefined,
  });
  assertNotExpired(exp, from, kind, now?.() ?? Date.now(), fail);
  return token;
}

/** An expired JWT is refused here, with the source to look at, rather than as invalid_grant. */
function assertNotExpired(
  exp: unknown,
  from: string,
  kind: TokenSourceKind,
  now: number,
  fail: (message: string, fix: string) => OAuth2Error,
): void {
  if (typeof exp !== "number" || exp * 1000 > now) return;
  const fixes: Record<TokenSourceKind, string> = {
    file: "whatever writes the file must renew it before it expires",
    env: "export a fresh token, or read it from a file the platform renews (subjectToken.file)",
    kubernetes:
      "the kubelet renews a projected token before it expires: check the pod's serviceAccountToken volume (expirationSeconds) and that subjectToken.file is that volume's path",
    "github-actions": "check the runner's clock; GitHub issues tokens valid for minutes",
  };
  throw fail(
    `the token from ${from} expired at ${new Date(exp * 1000).toISOString()}.`,
    fixes[kind],
  );
}

/**
 * Reads the workload's token afresh and sends it to the token endpoint with `grant`: token
 * exchange and jwt_bearer differ only in the parameters that carry it.
 */
export async function presentToken(
  provider: ProviderConfig,
  config: client.Configuration,
  source: TokenSourceContext,
  grant: {
    step: "token_exchange" | "jwt_bearer";
    type: string;
    params(token: string): Record<string, string>;
  },
): Promise<client.TokenEndpointResponse> {
  const token = await readSubjectToken(provider, source);
  try {
    return await client.genericGrantRequest(
      config,
      grant.type,
      grantParams(provider, grant.params(token)),
    );
  } catch (err) {
    throw toOAuth2Error(err, grant.step, provider.id, clientOf(config));
  }
}
