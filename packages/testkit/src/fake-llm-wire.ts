import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** The parsed body of a `POST /v1/chat/completions` request, as far as the fake looks at it. */
export interface ChatCompletionBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  messages?: Array<{ role?: string; content?: unknown }>;
  tools?: unknown[];
  [key: string]: unknown;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** A chat completion as OpenAI answers it without streaming. */
export function completionBody(model: string, text: string, body: ChatCompletionBody) {
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: text },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: usage(promptTokens(body), text),
  };
}

/**
 * The server-sent events of a streamed completion, one string per event: the role, a delta per
 * word, the finish reason, the usage when asked for, then `[DONE]`.
 */
export function completionEvents(model: string, text: string, body: ChatCompletionBody): string[] {
  const id = `chatcmpl-${randomUUID()}`;
  const createdAt = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({
      id,
      object: "chat.completion.chunk",
      created: createdAt,
      model,
      system_fingerprint: null,
      choices,
      ...extra,
    })}\n\n`;
  const events = [
    chunk([
      { index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
    ]),
  ];
  for (const piece of splitWords(text)) {
    events.push(
      chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]),
    );
  }
  events.push(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]));
  if (body.stream_options?.include_usage === true) {
    events.push(chunk([], { usage: usage(promptTokens(body), text) }));
  }
  events.push("data: [DONE]\n\n");
  return events;
}

/** Splits text into word-sized pieces that concatenate back to the original. */
function splitWords(text: string): string[] {
  const pieces = text.match(/\S+\s*|\s+/g);
  return pieces ?? [text];
}

function usage(prompt: number, text: string) {
  const completion = splitWords(text).length;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
}

function promptTokens(body: ChatCompletionBody): number {
  const json = JSON.stringify(body.messages ?? []);
  return Math.max(1, Math.ceil(json.length / 4));
}

export function openAiError(message: string, code: string) {
  return { error: { message, type: "invalid_request_error", param: null, code } };
}

/** Sends `payload` as JSON; returns the body sent. */
export function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): string {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
  return body;
}

export function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
