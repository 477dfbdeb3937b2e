import type { Usage } from "./hooks.js";

/**
 * The upstream's `usage`, read while its answer is relayed: from a JSON completion once it has
 * ended, or from the SSE events as they pass (the usage chunk comes last, before `[DONE]`).
 * Reading never delays a byte: complete events pass on at once, and only events that mention
 * `"usage"` are parsed. What is held is bounded.
 */

/** The most of a JSON answer kept to read its usage; a larger answer reports none. */
export const MAX_JSON_ANSWER_BYTES = 1024 * 1024;
/** The most of an unfinished SSE event held; beyond it the tap stops looking. */
const MAX_PENDING_EVENT_BYTES = 1024 * 1024;

const count = (value: unknown) =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;

/** An OpenAI `usage` object as {@link Usage}, or undefined when it is not one. */
export function usageOf(value: unknown): Usage | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const prompt = count(raw.prompt_tokens) ?? count(raw.input_tokens);
  const completion = count(raw.completion_tokens) ?? count(raw.output_tokens);
  if (prompt === undefined && completion === undefined) return undefined;
  const promptTokens = prompt ?? 0;
  const completionTokens = completion ?? 0;
  return {
    promptTokens,
    completionTokens,
    totalTokens: count(raw.total_tokens) ?? promptTokens + completionTokens,
  };
}

/** Collects a JSON answer (up to {@link MAX_JSON_ANSWER_BYTES}) and reads its usage at the end. */
export class JsonUsageReader {
  #parts: Buffer[] = [];
  #size = 0;

  add(chunk: Buffer): void {
    if (this.#size > MAX_JSON_ANSWER_BYTES) return;
    this.#size += chunk.length;
    if (this.#size > MAX_JSON_ANSWER_BYTES) this.#parts = [];
    else this.#parts.push(chunk);
  }

  usage(): Usage | undefined {
    if (this.#parts.length === 0) return undefined;
    try {
      return usageOf((JSON.parse(Buffer.concat(this.#parts).toString("utf8")) as Claims).usage);
    } catch {
      return undefined;
    }
  }
}

type Claims = { usage?: unknown };

const USAGE = Buffer.from('"usage"');
const LF = 0x0a;
const CR = 0x0d;

/** The end (exclusive) of the last complete event in `data`: after a blank line. 0: none. */
function lastBoundary(data: Buffer): number {
  for (let at = data.lastIndexOf(LF); at > 0; at = data.lastIndexOf(LF, at - 1)) {
    if (data[at - 1] === LF) return at + 1;
    if (data[at - 1] === CR && data[at - 2] === LF) return at + 1;
  }
  return 0;
}

/** Splits complete events (`data` ends at a boundary) at their blank lines. */
function events(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let at = data.indexOf(LF); at !== -1; at = data.indexOf(LF, at + 1)) {
    const next = data[at + 1];
    const blank = next === LF ? 2 : next === CR && data[at + 2] === LF ? 3 : 0;
    if (blank) {
      out.push(data.subarray(start, at + blank));
      start = at + blank;
      at += blank - 1;
    }
  }
  if (start < data.length) out.push(data.subarray(start));
  return out;
}

/** The JSON of an event's `data:` lines, when it parses. */
function eventJson(event: Buffer): Record<string, unknown> | undefined {
  const lines = event.toString("utf8").split(/\r?\n/);
  const data = lines
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
    .join("\n");
  try {
    const value = JSON.parse(data) as unknown;
    return typeof value === "object" && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An SSE stream's usage. Without `strip`, chunks pass through untouched and are only looked
 * at. With `strip` (the gateway asked for usage the client did not), the usage-only event
 * (`choices: []` with `usage`) is removed, so the client gets the stream it asked for; events
 * then pass on whole, each as soon as its blank line arrives.
 */
export class SseUsageTap {
  usage: Usage | undefined;
  #pending: Buffer | undefined;
  #gaveUp = false;

  constructor(private readonly strip: boolean) {}

  /** Looks at a chunk; returns what the client gets of it (with `strip`, whole events). */
  look(chunk: Buffer): Buffer | undefined {
    if (this.#gaveUp) return chunk;
    const data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    const end = lastBoundary(data);
    this.#pending = end < data.length ? data.subarray(end) : undefined;
    if ((this.#pending?.length ?? 0) > MAX_PENDING_EVENT_BYTES) {
      this.#gaveUp = true;
      const held = this.strip ? data : chunk;
      this.#pending = undefined;
      return held;
    }
    const complete = data.subarray(0, end);
    if (complete.indexOf(USAGE) === -1) return this.strip ? complete : chunk;
    const kept: Buffer[] = [];
    for (const event of events(complete)) {
      const json = event.indexOf(USAGE) === -1 ? undefined : eventJson(event);
      const usage = usageOf(json?.usage);
      if (usage) this.usage = usage;
      const usageOnly = usage && Array.isArray(json?.choices) && json.choices.length === 0;
      if (!(this.strip && usageOnly)) kept.push(event);
    }
    return this.strip ? Buffer.concat(kept) : chunk;
  }

  /** At the end of the stream: what `look` still holds for the client (with `strip`). */
  rest(): Buffer | undefined {
    const held = this.strip ? this.#pending : undefined;
    this.#pending = undefined;
    return held;
  }
}
