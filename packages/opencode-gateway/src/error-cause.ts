/**
 * What really went wrong in an outbound call, for the log. Node's fetch rejects with
 * `TypeError: fetch failed` and puts the reason (ECONNREFUSED, a TLS error, "expect header not
 * supported", a body stream error) in `cause`, sometimes an AggregateError further down:
 * logging only the outer message blames the wrong party.
 */

const MAX_DEPTH = 6;

/** `error_code`: the innermost `code` in the chain; `detail`: every message, outermost first. */
export function describeError(error: unknown): { error_code?: string; detail: string } {
  const messages: string[] = [];
  let code: string | undefined;
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < MAX_DEPTH; depth++) {
    if (!(current instanceof Error)) {
      messages.push(String(current));
      break;
    }
    const own = (current as { code?: unknown }).code;
    if (typeof own === "string") code = own;
    if (current.message && !messages.includes(current.message)) messages.push(current.message);
    const inner: unknown[] = current instanceof AggregateError ? current.errors : [];
    current = current.cause ?? inner[0];
  }
  return { ...(code ? { error_code: code } : {}), detail: messages.join(": ") || "unknown error" };
}
