/**
 * Paths that hide a dot-segment or a separator behind percent-encoding. The gateway routes on
 * the path as sent, but a server behind it may decode `%2f` into `/` or `%2e%2e` into `..` and
 * then resolve `/v1/..%2fadmin` to `/admin` — outside the `/v1` the gateway is meant to expose.
 * Such paths (also double-encoded, `%252e`) are refused with 400 before anything else runs;
 * no API the gateway fronts needs them.
 */

const ENCODED_DOT_OR_SLASH = /%(25)*(2e|2f|5c)/i;

/** Whether the raw request-target's path (before `?`) holds an encoded `.`, `/` or `\`. */
export function hasEncodedDotOrSlash(target: string): boolean {
  const path = target.split("?", 1)[0] ?? "";
  return ENCODED_DOT_OR_SLASH.test(path);
}
