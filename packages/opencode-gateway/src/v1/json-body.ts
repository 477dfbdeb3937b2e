/**
 * What the request path reads from a JSON request body: the top-level `model` and `stream`, and
 * whether the client asked for usage in its stream. The body is parsed to read them, never
 * re-serialised: the upstream gets the client's bytes. The one exception is asking a stream for
 * its usage (`stream_options.include_usage`) when the gateway needs it and the client did not:
 * then the field is spliced in before the closing brace, and only a body that already has a
 * `stream_options` object is written anew (a duplicate key would be read differently by
 * different servers).
 */

export interface BodyFacts {
  model: string | undefined;
  stream: boolean;
  /** `stream_options.include_usage === true` as the client sent it. */
  includeUsage: boolean;
  /** The parsed body (an object), when it is one. */
  parsed: Record<string, unknown> | undefined;
}

const NONE: BodyFacts = { model: undefined, stream: false, includeUsage: false, parsed: undefined };

/** Whether a Content-Type is JSON (`application/json`, `…+json`, with or without parameters). */
export function isJsonType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(";", 1)[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || type.endsWith("+json");
}

/** The facts of a JSON body; a body that is not a JSON object has none (no model, no stream). */
export function readFacts(body: Buffer): BodyFacts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return NONE;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return NONE;
  const record = parsed as Record<string, unknown>;
  const options = record.stream_options;
  return {
    model: typeof record.model === "string" ? record.model : undefined,
    stream: record.stream === true,
    includeUsage:
      typeof options === "object" &&
      options !== null &&
      (options as { include_usage?: unknown }).include_usage === true,
    parsed: record,
  };
}

const CLOSING_BRACE = 0x7d;
const isSpace = (byte: number | undefined) =>
  byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** The body with `stream_options.include_usage: true`, the rest of the client's bytes kept. */
export function withIncludeUsage(body: Buffer, facts: BodyFacts): Buffer {
  const { parsed } = facts;
  if (!parsed) return body;
  if (parsed.stream_options !== undefined) {
    const own = typeof parsed.stream_options === "object" ? parsed.stream_options : {};
    return Buffer.from(
      JSON.stringify({ ...parsed, stream_options: { ...own, include_usage: true } }),
    );
  }
  let end = body.length - 1;
  while (end > 0 && isSpace(body[end])) end -= 1;
  if (body[end] !== CLOSING_BRACE) return body;
  const empty = Object.keys(parsed).length === 0;
  const field = `${empty ? "" : ","}"stream_options":{"include_usage":true}`;
  return Buffer.concat([body.subarray(0, end), Buffer.from(field), body.subarray(end)]);
}
