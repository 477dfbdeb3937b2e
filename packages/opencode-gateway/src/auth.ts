import type { Socket } from "node:net";
import type { HttpBindings } from "@hono/node-server";
import { createMiddleware } from "hono/factory";
import { readBearer } from "./bearer.js";
import { checkCertificateBinding } from "./certificate-binding.js";
import type { CertificateBinding } from "./certificate-binding-config.js";
import type { Logger } from "./log.js";
import type { Claims, Rejection, Verdict } from "./verify-token.js";

/**
 * The token check in front of every protected route (the Hono middleware for the gateway's own
 * routes, `authenticate` for the proxied `/v1/*` request path): it reads the bearer token, asks
 * the verifier, and either hands on the claims or answers the refusal itself — so a refused
 * request never reaches the upstream. Refusals carry an RFC 6750 `WWW-Authenticate`
 * header and an OpenAI-style JSON error body. Tokens are never logged.
 */

/** Hono's env for the gateway's routes; the node:http bindings are absent under `app.fetch`. */
export type AuthEnv = {
  /** `authOutcome`: `ok` or the refusal's reason code, for metrics. */
  Variables: { claims: Claims; authOutcome: string };
  Bindings: Partial<HttpBindings>;
};

/** RFC 6750 §3: quoted-string values may not hold `"` or `\`, and only printable ASCII. */
const quotable = (text: string) => text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, "?");

/**
 * The one place a `Bearer` challenge is written. `resourceMetadata` is the RFC 9728 URL of the
 * gateway's protected-resource metadata (§5.1), where a client finds the authorization server.
 */
export function wwwAuthenticate(
  realm: string,
  rejection: Rejection,
  resourceMetadata?: string,
): string {
  const parts = [`Bearer realm="${quotable(realm)}"`];
  if (rejection.error && rejection.status !== 503) {
    parts.push(`error="${rejection.error}"`);
    parts.push(`error_description="${quotable(rejection.description)}"`);
  }
  if (rejection.scope) parts.push(`scope="${quotable(rejection.scope)}"`);
  if (resourceMetadata) parts.push(`resource_metadata="${quotable(resourceMetadata)}"`);
  return parts.join(", ");
}

/** An answer the gateway writes itself: status, headers and a JSON body. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Where a challenge points: the realm and the RFC 9728 metadata URL. */
export interface ChallengeOptions {
  realm: string;
  /** The RFC 9728 metadata URL named in every challenge. */
  resourceMetadata?: string | undefined;
}

/** The answer to a refused token: 401/403 with a challenge, or 503 with Retry-After. */
export function refusalAnswer(options: ChallengeOptions, rejection: Rejection): Answer {
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (rejection.status === 503) headers["retry-after"] = "5";
  else {
    headers["www-authenticate"] = wwwAuthenticate(
      options.realm,
      rejection,
      options.resourceMetadata,
    );
  }
  const type =
    rejection.status === 403
      ? "permission_error"
      : rejection.status === 503
        ? "service_unavailable"
        : "authentication_error";
  return {
    status: rejection.status,
    headers,
    body: {
      error: {
        message: rejection.description,
        type,
        code: rejection.error ?? "missing_token",
        reason: rejection.reason,
      },
    },
  };
}

export interface AuthOptions extends ChallengeOptions {
  verify: (token: string) => Promise<Verdict>;
  /** A remembered acceptance, at once (verify-token.ts `recall`); without it every check is `verify`'s. */
  recall?: ((token: string) => Verdict | undefined) | undefined;
  logger: Logger;
  /** Whether a token's `cnf["x5t#S256"]` is checked against the connection's certificate. */
  certificateBinding?: CertificateBinding;
}

/** The request being checked; `socket` is its connection (its client certificate). */
export interface AuthRequest {
  method: string;
  path: string;
  socket?: Socket | undefined;
}

/**
 * The token check of every protected route: the claims, or the refusal to answer (logged here,
 * with the request's method and path, never the token). A verdict may be a remembered one; the
 * certificate binding is checked after it, on this request's own connection.
 */
export async function authenticate(
  authorization: string | undefined,
  request: AuthRequest,
  options: AuthOptions,
): Promise<{ claims: Claims } | { refusal: Answer; reason: string }> {
  const read = readBearer(authorization);
  const verdict: Verdict =
    "token" in read ? await options.verify(read.token) : { ok: false, rejection: read.rejection };
  // The binding first, for a token refused for what it may do too: whoever presents it without
  // its certificate learns only that (RFC 8705 §3), not what the token lacks.
  const { claims } = verdict;
  const refused =
    claims && checkCertificateBinding(options.certificateBinding ?? "off", claims, request.socket);
  if (claims && refused) {
    const { status, reason } = refused.rejection;
    options.logger.emit("gateway_certificate_binding_refused", {
      method: request.method,
      path: request.path,
      status,
      reason,
      ...(typeof claims.sub === "string" ? { sub: claims.sub } : {}),
      ...(refused.certificate ? { certificate: refused.certificate } : {}),
    });
    return { refusal: refusalAnswer(options, refused.rejection), reason };
  }
  if (verdict.ok) return { claims: verdict.claims };
  const { status, reason, detail } = verdict.rejection;
  options.logger.emit(status === 503 ? "gateway_auth_unavailable" : "gateway_auth_rejected", {
    method: request.method,
    path: request.path,
    status,
    reason,
    ...(detail ? { detail } : {}),
  });
  return { refusal: refusalAnswer(options, verdict.rejection), reason };
}

/**
 * The common case of {@link authenticate}, answered at once: the claims of a token whose
 * acceptance is remembered and whose certificate binding holds on this request's connection.
 * Undefined for anything else — a token to verify, a refusal to answer and log — which
 * `authenticate` then judges in full.
 */
export function recallClaims(
  authorization: string | undefined,
  socket: Socket | undefined,
  options: AuthOptions,
): Claims | undefined {
  if (!options.recall || authorization === undefined) return undefined;
  const read = readBearer(authorization);
  if (!("token" in read)) return undefined;
  const verdict = options.recall(read.token);
  if (!verdict?.ok) return undefined;
  const binding = options.certificateBinding ?? "off";
  if (checkCertificateBinding(binding, verdict.claims, socket)) return undefined;
  return verdict.claims;
}

export function bearerAuth(options: AuthOptions) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const checked = await authenticate(
      c.req.header("authorization"),
      { method: c.req.method, path: c.req.path, socket: c.env.incoming?.socket },
      options,
    );
    c.set("authOutcome", "refusal" in checked ? checked.reason : "ok");
    if ("refusal" in checked) {
      const { status, headers, body } = checked.refusal;
      return Response.json(body, { status, headers });
    }
    c.set("claims", checked.claims);
    await next();
  });
}
