import { createHash } from "node:crypto";
import type { ClientMetadata } from "oidc-provider";
import { DEVICE_CODE_GRANT } from "./clients.js";
import {
  isRoute,
  type KitContext,
  type KitMiddleware,
  oauthError,
  presentedClient,
  readForm,
} from "./middleware.js";
import type { RequestLog } from "./request-log.js";

/** Behaviours of real IdPs that oidc-provider does not have, emulated in front of it. */
export interface IdpQuirks {
  /** Keycloak with PKCE enforced: the device authorization request needs S256 PKCE. */
  deviceRequiresPkce?: boolean;
  /** Entra ID: a public client presenting a secret on the code exchange → AADSTS700025. */
  rejectSecretForPublicExchange?: boolean;
  /** An IdP without PKCE support: `code_challenge` on authorize/device → 400. */
  rejectPkce?: boolean;
  /** Glewlwyd: OAuth errors of the token, device and revocation endpoints come with an empty
   * body (a refused client gets an empty 403, a bad grant an empty 400, a refused revocation
   * an empty 401). */
  emptyErrorBodies?: boolean;
  /** HTTP Basic client credentials taken verbatim, not form-decoded: `ci-bot`, sent as
   * `ci%2Dbot` per RFC 6749 §2.3.1, is an unknown client. client_secret_post works. */
  basicCredentialsNotDecoded?: boolean;
  /** `redirect_uri` must equal a registered one exactly (no any-port loopback); otherwise the
   * authorization endpoint answers a 403 HTML page. */
  exactRedirectUris?: boolean;
  /** Glewlwyd: the revocation endpoint wants client credentials (or a bearer access token, see
   * `revocationBearerScope`); a public client gets an empty 401. */
  publicClientRevocationRefused?: boolean;
  /** With `publicClientRevocationRefused`: an `Authorization: Bearer` access token carrying
   * this scope authenticates a revocation (Glewlwyd's "introspection-revocation-auth-scope"). */
  revocationBearerScope?: string;
  /** The device grant answers `authorization_pending` forever, also past `expires_in`. */
  endlessAuthorizationPending?: boolean;
  /** Keycloak (some versions): a client that fails authentication at the token endpoint gets
   * 401 `unauthorized_client` "Invalid client or Invalid client credentials", not
   * `invalid_client`. */
  refusedClientAsUnauthorizedClient?: boolean;
  /** Okta: a refused client assertion (client_secret_jwt, private_key_jwt) gets 401
   * `invalid_client` "The client_assertion signature is invalid.", naming the parameter. */
  assertionRefusalDescribed?: boolean;
}

export interface QuirkPaths {
  authorization: string;
  deviceAuthorization: string;
  token: string;
  revocation: string;
}

export const ENTRA_PUBLIC_CLIENT_SECRET =
  "AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' should be presented.";

const s256 = (verifier: string): string =>
  createHash("sha256").update(verifier).digest("base64url");

/** Parameters of a GET (query) or POST (form) authorization-style request. */
async function requestParams(ctx: KitContext): Promise<URLSearchParams> {
  if (ctx.method === "GET") return new URLSearchParams(ctx.querystring);
  return readForm(ctx);
}

/**
 * Keycloak: the device authorization request must carry S256 PKCE, and the device_code
 * grant must then present the matching `code_verifier`. oidc-provider itself ignores PKCE
 * parameters on both endpoints, so they pass through untouched.
 */
export function deviceRequiresPkce(paths: QuirkPaths, log: RequestLog): KitMiddleware {
  const challenges = new Map<string, string>();
  return async (ctx, next) => {
    if (isRoute(ctx, "POST", paths.deviceAuthorization)) {
      const form = await readForm(ctx);
      const method = form.get("code_challenge_method");
      const challenge = form.get("code_challenge");
      if (!method) {
        oauthError(ctx, 400, "invalid_request", "Missing parameter: code_challenge_method");
        return;
      }
      if (method !== "S256") {
        oauthError(ctx, 400, "invalid_request", "Invalid parameter: code_challenge_method");
        return;
      }
      if (!challenge) {
        oauthError(ctx, 400, "invalid_request", "Missing parameter: code_challenge");
        return;
      }
      await next();
      const body: unknown = ctx.body;
      if (ctx.status === 200 && typeof body === "object" && body !== null) {
        const deviceCode = (body as { device_code?: unknown }).device_code;
        if (typeof deviceCode === "string") challenges.set(deviceCode, challenge);
      }
      return;
    }
    if (isRoute(ctx, "POST", paths.token)) {
      const form = await readForm(ctx);
      const deviceCode = form.get("device_code");
      if (form.get("grant_type") === DEVICE_CODE_GRANT && deviceCode) {
        const expected = challenges.get(deviceCode);
        const verifier = form.get("code_verifier");
        if (expected !== undefined && (!verifier || s256(verifier) !== expected)) {
          log.recordError("invalid_grant", "PKCE verification failed", DEVICE_CODE_GRANT);
          oauthError(ctx, 400, "invalid_grant", "PKCE verification failed");
          return;
        }
      }
    }
    await next();
  };
}

/**
 * Entra ID: on the authorization_code grant, a client registered as public
 * (`token_endpoint_auth_method: "none"`) that presents a secret gets a 401 invalid_client.
 */
export function rejectSecretForPublicExchange(
  paths: QuirkPaths,
  clients: readonly ClientMetadata[],
  log: RequestLog,
): KitMiddleware {
  const publicIds = new Set(
    clients
      .filter((client) => client.token_endpoint_auth_method === "none")
      .map((client) => client.client_id),
  );
  return async (ctx, next) => {
    if (isRoute(ctx, "POST", paths.token)) {
      const form = await readForm(ctx);
      const { clientId, secretPresented } = presentedClient(ctx, form);
      if (
        form.get("grant_type") === "authorization_code" &&
        secretPresented &&
        clientId !== undefined &&
        publicIds.has(clientId)
      ) {
        log.recordError("invalid_client", ENTRA_PUBLIC_CLIENT_SECRET, "authorization_code");
        oauthError(ctx, 401, "invalid_client", ENTRA_PUBLIC_CLIENT_SECRET);
        return;
      }
    }
    await next();
  };
}

/**
 * An IdP without PKCE: an authorization (GET or POST) or device authorization request
 * carrying `code_challenge` is answered with a 400 JSON error instead of a redirect.
 */
export function rejectPkce(paths: QuirkPaths): KitMiddleware {
  return async (ctx, next) => {
    const onAuthorize =
      (ctx.method === "GET" || ctx.method === "POST") && ctx.path === paths.authorization;
    if (onAuthorize || isRoute(ctx, "POST", paths.deviceAuthorization)) {
      const params = await requestParams(ctx);
      if (params.has("code_challenge")) {
        oauthError(ctx, 400, "invalid_request", "code_challenge is not supported");
        return;
      }
    }
    await next();
  };
}

/**
 * An IdP whose device grant never ends: every device_code poll is answered
 * `authorization_pending`, whatever the user did and however long ago the code expired.
 */
export function endlessAuthorizationPending(paths: QuirkPaths): KitMiddleware {
  return async (ctx, next) => {
    if (isRoute(ctx, "POST", paths.token)) {
      const form = await readForm(ctx);
      if (form.get("grant_type") === DEVICE_CODE_GRANT) {
        oauthError(ctx, 400, "authorization_pending", "authorization request is still pending");
        return;
      }
    }
    await next();
  };
}

/**
 * Keycloak's answer to a client that failed authentication at the token endpoint (some
 * versions): 401 with `unauthorized_client`, the error RFC 6749 keeps for a client not allowed
 * a grant. Only the answer changes; the OP still decides.
 */
export function refusedClientAsUnauthorizedClient(paths: QuirkPaths): KitMiddleware {
  return async (ctx, next) => {
    await next();
    if (!isRoute(ctx, "POST", paths.token) || ctx.status !== 401) return;
    const body: unknown = ctx.body;
    if (typeof body !== "object" || body === null) return;
    if ((body as { error?: unknown }).error !== "invalid_client") return;
    ctx.remove("www-authenticate");
    oauthError(ctx, 401, "unauthorized_client", "Invalid client or Invalid client credentials");
  };
}
