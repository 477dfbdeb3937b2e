import type { HttpBindings } from "@hono/node-server";
import { createMiddleware } from "hono/factory";
import { readBearer } from "./bearer.js";
import type { Logger } from "./log.js";
import type { Claims, Rejection, Verdict } from "./verify-token.js";

/**
 * The Hono middleware in front of every protected route: it reads the bearer token, asks the
 * verifier, and either stores the claims for the handler or answers the refusal itself — so a
 * refused request never reaches the upstream. Refusals carry an RFC 6750 `WWW-Authenticate`
 * header and an OpenAI-style JSON error body. Tokens are never logged.
 */

/** Hono's env for the gateway's routes; the node:http bindings are absent under `app.fetch`. */
export type AuthEnv = { Variables: { claims: Claims }; Bindings: Partial<HttpBindings> };

/** RFC 6750 §3: quoted-string values may not hold `"` or `\`, and only printable ASCII. */
const quotable = (text: string) => text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, "?");

export function wwwAuthenticate(realm: string, rejection: Rejection): string {
  const parts = [`Bearer realm="${quotable(realm)}"`];
  if (rejection.error && rejection.status !== 503) {
    parts.push(`error="${rejection.error}"`);
    parts.push(`error_description="${quotable(rejection.description)}"`);
  }
  if (rejection.scope) parts.push(`scope="${quotable(rejection.scope)}"`);
  return parts.join(", ");
}

function refusal(realm: string, rejection: Rejection): Response {
  const headers = new Headers({ "cache-control": "no-store" });
  if (rejection.status === 503) headers.set("retry-after", "5");
  else headers.set("www-authenticate", wwwAuthenticate(realm, rejection));
  const type =
    rejection.status === 403
      ? "permission_error"
      : rejection.status === 503
        ? "service_unavailable"
        : "authentication_error";
  return Response.json(
    {
      error: {
        message: rejection.description,
        type,
        code: rejection.error ?? "missing_token",
        reason: rejection.reason,
      },
    },
    { status: rejection.status, headers },
  );
}

export function bearerAuth(options: {
  realm: string;
  verify: (token: string) => Promise<Verdict>;
  logger: Logger;
}) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const read = readBearer(c.req.header("authorization"));
    const verdict: Verdict =
      "token" in read ? await options.verify(read.token) : { ok: false, rejection: read.rejection };
    if (!verdict.ok) {
      const { status, reason, detail } = verdict.rejection;
      options.logger.emit(status === 503 ? "gateway_auth_unavailable" : "gateway_auth_rejected", {
        method: c.req.method,
        path: c.req.path,
        status,
        reason,
        ...(detail ? { detail } : {}),
      });
      return refusal(options.realm, verdict.rejection);
    }
    c.set("claims", verdict.claims);
    await next();
  });
}
