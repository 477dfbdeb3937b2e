import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Verifies a bearer token; resolves with its claims, rejects (throws) when the token is not accepted. */
export type TokenVerifier = (token: string) => Promise<Record<string, unknown>>;

/** The parsed body of a `POST /v1/chat/completions` request, as far as the fake looks at it. */
export interface ChatCompletionBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  messages?: Array<{ role?: string; content?: unknown }>;
  tools?: unknown[];
  [key: string]: unknown;
}

export interface FakeLlmOptions {
  /** Accepts or rejects the bearer token of every request (throw to reject → 401). */
  verify: TokenVerifier;
  /** Model ids listed by `GET /v1/models`. Default `["demo-model"]`. */
  models?: string[];
  /** The assistant text of every completion, or a function of the request body. */
  answer?: string | ((body: ChatCompletionBody) => string);
}

/** One request the fake received, in arrival order. */
export interface FakeLlmRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** Lower-cased request headers (multi-valued headers joined with `, `). */
  headers: Record<string, string>;
  /** The raw `Authorization` header, when present. */
  authorization?: string;
  /** The bearer token taken from `Authorization`, when present. */
  token?: string;
  /** What `verify` resolved with, when it accepted the token. */
  claims?: Record<string, unknown>;
  /** Whether `verify` accepted the token (a forced 401 keeps `valid: true`). */
  valid: boolean;
  /** The status code the fake answered with. */
  status: number;
  /** `Date.now()` when the request arrived. */
  at: number;
  /** The parsed JSON body (or the raw text when it was not JSON). */
  body?: unknown;
  /** Set when the 401 was forced by `failNextWith401`. */
  forced401?: boolean;
}

export interface FakeLlm {
  /** OpenAI-style base URL, `http://127.0.0.1:<port>/v1` (what `options.baseURL` wants). */
  readonly baseURL: string;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  /** Every request received so far (mutable array; `clearRequests()` empties it). */
  readonly requests: FakeLlmRequest[];
  /** Only the `POST /v1/chat/completions` requests. */
  chatRequests(): FakeLlmRequest[];
  /** Answers the next `n` requests with 401 even when their token is valid. */
  failNextWith401(n?: number): void;
  /** How many forced 401s are still pending. */
  pendingForced401(): number;
  /** Changes the answer text of later completions. */
  setAnswer(answer: string | ((body: ChatCompletionBody) => string)): void;
  clearRequests(): void;
  close(): Promise<void>;
}

export const DEFAULT_FAKE_ANSWER = "Hello from the fake model.";

const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Starts a small OpenAI-compatible model server on 127.0.0.1 that requires
 * `Authorization: Bearer <token>` on every request and checks the token with `verify`.
 * Routes: `GET /v1/models`, `POST /v1/chat/completions` (streaming SSE and plain JSON).
 */
export async function startFakeLlm(options: FakeLlmOptions): Promise<FakeLlm> {
  const models = options.models?.length ? [...options.models] : ["demo-model"];
  let answer: string | ((body: ChatCompletionBody) => string) =
    options.answer ?? DEFAULT_FAKE_ANSWER;
  let forced401 = 0;
  const requests: FakeLlmRequest[] = [];
  const created = Math.floor(Date.now() / 1000);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Date.now();
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname.replace(/\/+$/, "") || "/";
    const headers = flattenHeaders(req);
    const raw = await readBody(req);
    const record: FakeLlmRequest = { method, path, headers, valid: false, status: 0, at };
    if (raw.length > 0) record.body = parseJson(raw);
    requests.push(record);

    const authorization = headers.authorization;
    if (authorization !== undefined) record.authorization = authorization;
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    const token = match?.[1];
    if (token !== undefined) {
      record.token = token;
      try {
        record.claims = await options.verify(token);
        record.valid = true;
      } catch {
        record.valid = false;
      }
    }
    const forced = forced401 > 0;
    if (forced) forced401 -= 1;

    if (!record.valid || forced) {
      if (forced && record.valid) record.forced401 = true;
      const message = !token
        ? "Missing bearer token."
        : record.valid
          ? "Token rejected (forced by the test)."
          : "Invalid bearer token.";
      record.status = 401;
      sendJson(
        res,
        401,
        { error: { message, type: "invalid_request_error", param: null, code: "invalid_token" } },
        { "www-authenticate": 'Bearer error="invalid_token"' },
      );
      return;
    }

    if (method === "GET" && path === "/v1/models") {
      record.status = 200;
      sendJson(res, 200, {
        object: "list",
        data: models.map((id) => ({ id, object: "model", created, owned_by: "fake-llm" })),
      });
      return;
    }

    if (method === "POST" && path === "/v1/chat/completions") {
      const body = record.body;
      if (!isObject(body)) {
        record.status = 400;
        sendJson(res, 400, openAiError("Request body must be a JSON object.", "invalid_body"));
        return;
      }
      const chat = body as ChatCompletionBody;
      const model = typeof chat.model === "string" ? chat.model : (models[0] ?? "demo-model");
      if (!models.includes(model)) {
        record.status = 404;
        sendJson(res, 404, openAiError(`The model '${model}' does not exist.`, "model_not_found"));
        return;
      }
      const text = typeof answer === "function" ? answer(chat) : answer;
      record.status = 200;
      if (chat.stream === true) {
        streamCompletion(res, model, text, chat, promptTokens(chat));
      } else {
        sendJson(res, 200, {
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
          usage: usage(promptTokens(chat), text),
        });
      }
      return;
    }

    record.status = 404;
    sendJson(res, 404, openAiError(`No route for ${method} ${path}.`, "not_found"));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, openAiError(String(error), "internal_error"));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    baseURL: `${origin}/v1`,
    origin,
    port,
    requests,
    chatRequests: () =>
      requests.filter((r) => r.method === "POST" && r.path === "/v1/chat/completions"),
    failNextWith401(n = 1) {
      forced401 = Math.max(0, Math.floor(n));
    },
    pendingForced401: () => forced401,
    setAnswer(next) {
      answer = next;
    },
    clearRequests() {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function streamCompletion(
  res: ServerResponse,
  model: string,
  text: string,
  body: ChatCompletionBody,
  prompt: number,
): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
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
  let out = chunk([
    { index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
  ]);
  for (const piece of splitWords(text)) {
    out += chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]);
  }
  out += chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]);
  if (body.stream_options?.include_usage === true) {
    out += chunk([], { usage: usage(prompt, text) });
  }
  out += "data: [DONE]\n\n";
  res.end(out);
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

function openAiError(message: string, code: string) {
  return { error: { message, type: "invalid_request_error", param: null, code } };
}

function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
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

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
