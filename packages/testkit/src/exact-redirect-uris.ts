import type { ClientMetadata } from "oidc-provider";
import type { KitMiddleware } from "./middleware.js";
import { readForm } from "./middleware.js";

const FORBIDDEN_PAGE = `<!DOCTYPE html>
<html><head><title>403 Forbidden</title></head>
<body><h1>Forbidden</h1><p>Invalid redirect_uri</p></body></html>
`;

/**
 * An IdP that compares `redirect_uri` exactly with the registered ones (no RFC 8252 §7.3
 * any-port loopback, which oidc-provider grants native clients): a mismatch gets a 403 HTML
 * page from the authorization endpoint, so the browser never comes back to the client.
 */
export function exactRedirectUris(
  authorizationPath: string,
  clients: readonly ClientMetadata[],
): KitMiddleware {
  const registered = new Map(
    clients.map((client) => [client.client_id, new Set(client.redirect_uris ?? [])]),
  );
  return async (ctx, next) => {
    const onAuthorize =
      (ctx.method === "GET" || ctx.method === "POST") && ctx.path === authorizationPath;
    if (onAuthorize) {
      const params =
        ctx.method === "GET" ? new URLSearchParams(ctx.querystring) : await readForm(ctx);
      const uris = registered.get(params.get("client_id") ?? "");
      const redirectUri = params.get("redirect_uri");
      if (uris && redirectUri !== null && !uris.has(redirectUri)) {
        ctx.status = 403;
        ctx.type = "text/html";
        ctx.body = FORBIDDEN_PAGE;
        return;
      }
    }
    await next();
  };
}
