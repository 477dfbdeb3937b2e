import { isRoute, type KitMiddleware } from "./middleware.js";

/**
 * oidc-provider's device authorization response has no `interval`, so RFC 8628 clients poll
 * every 5 s. This adds `interval: <seconds>` to every successful JSON response of the device
 * authorization endpoint (an existing `interval` is left alone).
 */
export function deviceInterval(deviceAuthorizationPath: string, seconds: number): KitMiddleware {
  return async (ctx, next) => {
    await next();
    if (!isRoute(ctx, "POST", deviceAuthorizationPath) || ctx.status !== 200) return;
    const body: unknown = ctx.body;
    if (
      typeof body === "object" &&
      body !== null &&
      !Array.isArray(body) &&
      !("interval" in body)
    ) {
      ctx.body = { ...body, interval: seconds };
    }
  };
}
