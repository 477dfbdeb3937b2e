import type { JWTPayload } from "jose";
import type Provider from "oidc-provider";
import {
  bareStatus,
  isRoute,
  type KitMiddleware,
  oauthError,
  readForm,
  rewriteForm,
} from "./middleware.js";

const encodedBasic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

/**
 * An IdP that takes HTTP Basic credentials verbatim instead of form-decoding them
 * (RFC 6749 §2.3.1 says to). openid-client encodes `ci-bot` as `ci%2Dbot`, so such an IdP sees
 * a client it does not know. Emulated by re-encoding what arrived, so that oidc-provider, which
 * does decode, ends up with the raw (still encoded) id and secret. Like Glewlwyd, the IdP
 * takes either method from any client: `client_secret`/`client_id` in the form are handed to
 * oidc-provider as (correctly encoded) Basic credentials.
 */
export function basicCredentialsNotDecoded(): KitMiddleware {
  return async (ctx, next) => {
    if (ctx.method !== "POST") {
      await next();
      return;
    }
    const basic = /^basic\s+(.+)$/i.exec(ctx.get("authorization"));
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      const id = colon === -1 ? decoded : decoded.slice(0, colon);
      const secret = colon === -1 ? "" : decoded.slice(colon + 1);
      ctx.req.headers.authorization = encodedBasic(id, secret);
    } else {
      const form = await readForm(ctx);
      const id = form.get("client_id");
      const secret = form.get("client_secret");
      if (id && secret) {
        form.delete("client_id");
        form.delete("client_secret");
        rewriteForm(ctx, form);
        ctx.req.headers.authorization = encodedBasic(id, secret);
      }
    }
    await next();
  };
}

export interface RevocationAuthOptions {
  revocationPath: string;
  provider: Provider;
  /** Verifies an access token issued by this IdP (signature, issuer, audience). */
  verifyAccessToken: (token: string) => Promise<JWTPayload>;
  /**
   * The scope an access token must carry to authenticate a revocation (Glewlwyd's
   * "introspection-revocation-auth-scope"); undefined: bearer authentication is off.
   */
  bearerScope: string | undefined;
}

/**
 * Glewlwyd's revocation endpoint authenticates the caller with client credentials (Basic or
 * `client_secret`) or with `Authorization: Bearer <access token>` when that token carries the
 * configured scope; anything else — a public client sending only its `client_id` — gets an
 * empty 401. A bearer-authenticated request may revoke any token.
 */
export function publicClientRevocationRefused(options: RevocationAuthOptions): KitMiddleware {
  return async (ctx, next) => {
    if (!isRoute(ctx, "POST", options.revocationPath)) {
      await next();
      return;
    }
    const form = await readForm(ctx);
    const authorization = ctx.get("authorization");
    const basic = /^basic\s+(.+)$/i.exec(authorization);
    const basicSecret = basic?.[1]
      ? Buffer.from(basic[1], "base64").toString("utf8").split(":").slice(1).join(":")
      : "";
    if (basicSecret.length > 0 || (form.get("client_secret") ?? "").length > 0) {
      await next();
      return;
    }
    const bearer = /^bearer\s+(.+)$/i.exec(authorization)?.[1];
    if (!bearer || options.bearerScope === undefined) {
      bareStatus(ctx, 401);
      return;
    }
    let claims: JWTPayload;
    try {
      claims = await options.verifyAccessToken(bearer);
    } catch {
      bareStatus(ctx, 401);
      return;
    }
    const scopes = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
    if (!scopes.includes(options.bearerScope)) {
      bareStatus(ctx, 401);
      return;
    }
    const token = form.get("token") ?? "";
    const refreshToken = token ? await options.provider.RefreshToken.find(token) : undefined;
    await refreshToken?.destroy();
    ctx.status = 200;
    ctx.set("cache-control", "no-store");
    ctx.body = "";
  };
}

/**
 * Okta: a client assertion it refuses (a wrong secret for client_secret_jwt, an unknown key for
 * private_key_jwt) is answered 401 `invalid_client` with a description that names
 * `client_assertion`. Only the wording changes; oidc-provider still decides.
 */
export function assertionRefusalDescribed(tokenPath: string): KitMiddleware {
  return async (ctx, next) => {
    if (!isRoute(ctx, "POST", tokenPath)) {
      await next();
      return;
    }
    const form = await readForm(ctx);
    await next();
    const body: unknown = ctx.body;
    if (!form.has("client_assertion") || ctx.status !== 401) return;
    if ((body as { error?: unknown } | null)?.error !== "invalid_client") return;
    oauthError(ctx, 401, "invalid_client", "The client_assertion signature is invalid.");
  };
}
