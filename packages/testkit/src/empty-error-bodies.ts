import { bareStatus, type KitMiddleware } from "./middleware.js";

/** The endpoints whose OAuth error answers lose their body under `emptyErrorBodies`. */
export interface EmptyErrorPaths {
  token: string;
  deviceAuthorization: string;
  revocation: string;
}

function oauthErrorCode(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  return typeof error === "string" ? error : undefined;
}

/**
 * An IdP (Glewlwyd, a C implementation) that answers every OAuth error of its token, device
 * and revocation endpoints with the status alone: no body, no content type, no
 * `WWW-Authenticate`. A refused client gets 403 there (oidc-provider says 401 invalid_client),
 * a bad grant 400, a refused revocation 401. The OP still decides; only the answer is stripped.
 */
export function emptyErrorBodies(paths: EmptyErrorPaths): KitMiddleware {
  const stripped = new Set([paths.token, paths.deviceAuthorization, paths.revocation]);
  return async (ctx, next) => {
    await next();
    if (ctx.method !== "POST" || !stripped.has(ctx.path) || ctx.status < 400) return;
    const refusedClient = ctx.status === 401 || oauthErrorCode(ctx.body) === "invalid_client";
    const status = refusedClient && ctx.path !== paths.revocation ? 403 : ctx.status;
    bareStatus(ctx, status);
  };
}
