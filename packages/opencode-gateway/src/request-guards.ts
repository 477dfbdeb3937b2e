import { createMiddleware } from "hono/factory";
import type { AuthEnv } from "./auth.js";
import { declaresTooLarge } from "./body-limit.js";
import type { Logger } from "./log.js";
import { hasEncodedDotOrSlash } from "./path-guard.js";
import { bodyTooLarge } from "./v1/respond.js";

/**
 * The refusals that need no token and cost nothing: a path with encoded dots or slashes
 * (path-guard.ts) and a declared body over the limit (body-limit.ts). They run before
 * authentication, so such a request never reaches the IdP or the upstream.
 */

/** 400 for `/v1/..%2fadmin` and kin, on every route. Reads the request-target as sent. */
export function refuseEncodedPaths(logger: Logger) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const target = c.env?.incoming?.url ?? new URL(c.req.url).pathname;
    if (!hasEncodedDotOrSlash(target)) return next();
    logger.emit("gateway_request_refused", {
      method: c.req.method,
      status: 400,
      reason: "encoded_path",
    });
    return c.json(
      {
        error: {
          message: "encoded dots and slashes (%2e, %2f, %5c) are not allowed in the path",
          type: "invalid_request_error",
          code: "invalid_path",
        },
      },
      400,
    );
  });
}

/** 413 for a declared Content-Length over `maxBytes`, before a byte of the body is read. */
export function refuseDeclaredTooLarge(maxBytes: number, logger: Logger) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    if (!declaresTooLarge(c.req.header("content-length"), maxBytes)) return next();
    logger.emit("gateway_request_refused", {
      method: c.req.method,
      path: c.req.path,
      status: 413,
      reason: "body_too_large",
      maxBodyBytes: maxBytes,
    });
    // The client may be sending the body regardless: the answer closes the connection.
    const { status, headers, body } = bodyTooLarge(maxBytes);
    return Response.json(body, { status, headers });
  });
}
