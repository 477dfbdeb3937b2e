import { bareStatus, type KitContext, type KitMiddleware, oauthError } from "./middleware.js";

/**
 * How the IdP misbehaves while a failure is set:
 * - `html`: 200 with an HTML page (a captive portal / SSO login page in the way);
 * - `invalid-json`: 200 `application/json` with a truncated JSON document;
 * - `500`: 500 with a plain-text body;
 * - `hang`: never answers; the socket stays open until the client gives up or the IdP closes.
 * - `temporarily_unavailable`: 503 with that OAuth error (RFC 6749 §5.2, an IdP in maintenance);
 * - `invalid_client`: 401 invalid_client JSON (a client secret being rotated at the IdP);
 * - `proxy-401`: 401 with `WWW-Authenticate: Basic realm="corporate proxy"` and an HTML page,
 *   no OAuth error (a proxy in front of the IdP wants credentials);
 * - `empty-400`: 400 with no body and no content type (an IdP that hides its errors).
 */
export type FailureMode =
  | "html"
  | "invalid-json"
  | "500"
  | "hang"
  | "temporarily_unavailable"
  | "invalid_client"
  | "proxy-401"
  | "empty-400";

export interface FailureOptions {
  /** Also break the discovery documents (default: only the token endpoint). */
  discovery?: boolean;
}

const HTML_PAGE = `<!DOCTYPE html>
<html><head><title>Sign in</title></head>
<body><h1>Corporate sign-in</h1><form method="post"><input name="user"></form></body></html>
`;

/** Runtime-switchable failure mode and token delay, applied in front of the real OP. */
export class FailureSwitch {
  mode: FailureMode | null = null;
  includeDiscovery = false;
  tokenDelayMs: number;

  constructor(tokenDelayMs = 0) {
    this.tokenDelayMs = tokenDelayMs;
  }

  set(mode: FailureMode | null, options: FailureOptions = {}): void {
    this.mode = mode;
    this.includeDiscovery = mode !== null && options.discovery === true;
  }

  middleware(tokenPath: string, discoveryPaths: readonly string[]): KitMiddleware {
    return async (ctx, next) => {
      const isToken = ctx.method === "POST" && ctx.path === tokenPath;
      const isDiscovery = ctx.method === "GET" && discoveryPaths.includes(ctx.path);
      if (isToken && this.tokenDelayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.tokenDelayMs));
      }
      const mode = this.mode;
      if (mode !== null && (isToken || (isDiscovery && this.includeDiscovery))) {
        await fail(ctx, mode);
        return;
      }
      await next();
    };
  }
}

async function fail(ctx: KitContext, mode: FailureMode): Promise<void> {
  switch (mode) {
    case "html":
      ctx.status = 200;
      ctx.type = "text/html";
      ctx.body = HTML_PAGE;
      return;
    case "invalid-json":
      ctx.status = 200;
      ctx.type = "application/json";
      ctx.body = '{"access_token":"truncated';
      return;
    case "500":
      ctx.status = 500;
      ctx.type = "text/plain";
      ctx.body = "Internal Server Error";
      return;
    case "temporarily_unavailable":
      oauthError(ctx, 503, "temporarily_unavailable", "The service is in maintenance");
      return;
    case "invalid_client":
      oauthError(ctx, 401, "invalid_client", "client authentication failed");
      return;
    case "proxy-401":
      ctx.status = 401;
      ctx.set("www-authenticate", 'Basic realm="corporate proxy"');
      ctx.type = "text/html";
      ctx.body = "<html><head><title>Proxy authentication required</title></head></html>";
      return;
    case "empty-400":
      bareStatus(ctx, 400);
      return;
    case "hang":
      // Wait until the connection goes away (client abort or IdP close), then tell Koa not
      // to write anything.
      await new Promise<void>((resolve) => {
        if (ctx.res.destroyed) resolve();
        else ctx.res.once("close", () => resolve());
      });
      ctx.respond = false;
      return;
  }
}
