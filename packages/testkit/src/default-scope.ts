import { type KitMiddleware, readForm, rewriteForm } from "./middleware.js";

/**
 * oidc-provider ends an authorization or device request that asks for no scope at all with
 * `access_denied` ("no scope was granted") after login and consent, while Keycloak and most
 * IdPs apply the client's default scopes. This adds `scope=<scope>` to authorization (GET
 * query or POST form) and device authorization requests that carry no `scope`.
 */
export function defaultScope(
  paths: { authorization: string; deviceAuthorization: string },
  scope: string,
): KitMiddleware {
  return async (ctx, next) => {
    if (ctx.path === paths.authorization && ctx.method === "GET") {
      const query = new URLSearchParams(ctx.querystring);
      if (!query.get("scope")) {
        query.set("scope", scope);
        ctx.querystring = query.toString();
      }
    } else if (
      ctx.method === "POST" &&
      (ctx.path === paths.authorization || ctx.path === paths.deviceAuthorization) &&
      ctx.is("application/x-www-form-urlencoded")
    ) {
      const form = await readForm(ctx);
      if (!form.get("scope")) {
        const withScope = new URLSearchParams(form);
        withScope.set("scope", scope);
        rewriteForm(ctx, withScope);
      }
    }
    await next();
  };
}
