import { type Rejection, rejection } from "./verify-token.js";

/**
 * The bearer token out of an `Authorization` header (RFC 6750 §2.1), or why there is none: no
 * header (401 with no error code, §3.1), another scheme, malformed credentials, or a token too
 * long to be one (checked before any work is spent on it).
 */

const MAX_TOKEN_LENGTH = 16 * 1024;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Takes the token out of an Authorization header value, or says why there is none. */
export function readBearer(
  header: string | undefined,
): { token: string } | { rejection: Rejection } {
  if (!header?.trim()) {
    return {
      rejection: { status: 401, reason: "missing", description: "a bearer token is required" },
    };
  }
  if (!/^Bearer(\s|$)/i.test(header)) {
    return {
      rejection: {
        status: 401,
        reason: "not_bearer",
        description: "only Authorization: Bearer <token> is accepted",
      },
    };
  }
  const match = BEARER.exec(header);
  if (!match?.[1]) {
    return {
      rejection: rejection(
        401,
        "malformed_header",
        "the Bearer credentials are empty or malformed",
      ),
    };
  }
  if (match[1].length > MAX_TOKEN_LENGTH) {
    return { rejection: rejection(401, "too_long", "the token is too long") };
  }
  return { token: match[1] };
}
