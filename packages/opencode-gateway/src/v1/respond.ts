import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Answer } from "../auth.js";

/** Writes a JSON answer on the raw response (unless one has started). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export const sendAnswer = (res: ServerResponse, answer: Answer): void =>
  sendJson(res, answer.status, answer.body, answer.headers);

/** An OpenAI-shaped error body. */
export const openAiError = (message: string, code: string, type = "upstream_error") => ({
  error: { message, type, code },
});

/** The answer for a body over the limit; the connection is closed after it. */
export const bodyTooLarge = (maxBytes: number): Answer => ({
  status: 413,
  headers: { connection: "close" },
  body: openAiError(
    `the request body is larger than this gateway accepts (${maxBytes} bytes)`,
    "body_too_large",
    "invalid_request_error",
  ),
});
