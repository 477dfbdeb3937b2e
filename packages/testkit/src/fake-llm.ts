import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ChatCompletionBody,
  completionBody,
  completionEvents,
  flattenHeaders,
  openAiError,
  parseJson,
  readBody,
  sendJson,
} from "./fake-llm-wire.js";

export type { ChatCompletionBody } from "./fake-llm-wire.js";

/** Verifies a bearer token; resolves with its claims, rejects (throws) when the token is not accepted. */
export type TokenVerifier = (token: string) => Promise<Record<string, unknown>>;

export interface FakeLlmOptions {
  /**
   * Accepts or rejects the bearer token of every request (throw to reject → 401). Without it
   * the fake is an open upstream: every request is served, with or without a token.
   */
  verify?: TokenVerifier;
  /** Model ids listed by `GET /v1/models`. Default `["demo-model"]`. */
  models?: string[];
  /** The assistant text of every completion, or a function of the request body. */
  answer?: string | ((body: ChatCompletionBody) => string);
  /** Paths the fake receives but never answers (a client's timeout must end the request). */
  hangPaths?: string[];
  /** Pause between two streamed events, so each arrives as its own chunk. Default 5 ms. */
  streamDelayMs?: number;
  /**
   * Header lines added to every completion answer, as a flat list (`[name, value, …]`): a name
   * given twice is sent twice.
   */
  completionHeaders?: readonly string[];
}

/** One request the fake received, in arrival order. */
export interface FakeLlmRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** The query string with its `?`, or `""`. */
  search: string;
  /** Lower-cased request headers (multi-valued headers joined with `, `). */
  headers: Record<string, string>;
  /** The raw `Authorization` header, when present. */
  authorization?: string;
  /** The bearer token taken from `Authorization`, when present. */
  token?: string;
  /** What `verify` resolved with, when it accepted the token. */
  claims?: Record<string, unknown>;
  /** Whether the request was accepted: by `verify`, or always without it (a forced 401 keeps `valid: true`). */
  valid: boolean;
  /** The status code the fake answered with. */
  status: number;
  /** `Date.now()` when the request arrived. */
  at: number;
  /** The request body as received (`""` when there was none). */
  rawBody: string;
  /** The parsed JSON body (or the raw text when it was not JSON). */
  body?: unknown;
  /** The body the fake answered with, byte for byte (a stream's events once it has ended). */
  response?: string;
  /** Set when the 401 was forced by `failNextWith401`. */
  forced401?: boolean;
  /** Set when the client's connection closed before the answer was complete (an abort). */
  aborted?: boolean;
}

export interface FakeLlm {
  /** OpenAI-style base URL, `http://127.0.0.1:<port>/v1` (what `options.baseURL` wants). */
  readonly baseURL: string;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  /** Every request received so far (mutable array; `clearRequests()` empties it). */
  readonly requests: FakeLlmRequest[];
  /** Whether the last stream has written its final event. */
  readonly streamFinished: boolean;
  /** Only the `POST /v1/chat/completions` requests. */
  chatRequests(): FakeLlmRequest[];
  /** Answers the next `n` requests with 401 even when their token is valid. */
  failNextWith401(n?: number): void;
  /** How many forced 401s are still pending. */
  pendingForced401(): number;
  /** Changes the answer text of later completions. */
  setAnswer(answer: string | ((body: ChatCompletionBody) => string)): void;
  /**
   * Pauses the next streams after their first word until the returned function is called, to
   * prove a proxy passes events on as they come instead of buffering the body.
   */
  holdAfterFirstWord(): () => void;
  clearRequests(): void;
  close(): Promise<void>;
}

export const DEFAULT_FAKE_ANSWER = "Hello from the fake model.";

/**
 * Starts a small OpenAI-compatible model server on 127.0.0.1 that records every request and,
 * given `verify`, requires `Authorization: Bearer <token>` and checks the token with it.
 * Routes: `GET /v1/models`, `GET /v1/models/<id>`, `POST /v1/chat/completions` (streaming SSE,
 * one event per write, and plain JSON).
 */
export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const models = options.models?.length ? [...options.models] : ["demo-model"];
  const hangPaths = new Set(options.hangPaths ?? []);
  const streamDelayMs = options.streamDelayMs ?? 5;
  let answer: string | ((body: ChatCompletionBody) => string) =
    options.answer ?? DEFAULT_FAKE_ANSWER;
  let forced401 = 0;
  let hold: Promise<void> | undefined;
  let streamFinished = false;
  const requests: FakeLlmRequest[] = [];
  const created = Math.floor(Date.now() / 1000);
  const modelObject = (id: string) => ({ id, object: "model", created, owned_by: "fake-llm" });

  const stream = async (res: ServerResponse, events: string[], record: FakeLlmRequest) => {
    streamFinished = false;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const held = hold;
    for (const [index, event] of events.entries()) {
      if (index > 0) await new Promise((resolve) => setTimeout(resolve, streamDelayMs));
      // Event 0 is the role, event 1 the first word.
      if (index === 2 && held) await held;
      res.write(event);
    }
    res.end();
    record.response = events.join("");
    streamFinished = true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Date.now();
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const headers = flattenHeaders(req);
    const rawBody = await readBody(req);
    const record: FakeLlmRequest = {
      method,
      path,
      search: url.search,
      headers,
      valid: options.verify === undefined,
      status: 0,
      at,
      rawBody,
    };
    if (rawBody.length > 0) record.body = parseJson(rawBody);
    requests.push(record);
    res.once("close", () => {
      if (!res.writableFinished) record.aborted = true;
    });
    if (hangPaths.has(path)) return;
    const answerJson = (status: number, payload: unknown, extra?: Record<string, string>) => {
      record.status = status;
      record.response = sendJson(res, status, payload, extra);
    };

    const authorization = headers.authorization;
    if (authorization !== undefined) record.authorization = authorization;
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    const token = match?.[1];
    if (token !== undefined) record.token = token;
    if (token !== undefined && options.verify) {
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
      answerJson(
        401,
        { error: { message, type: "invalid_request_error", param: null, code: "invalid_token" } },
        { "www-authenticate": 'Bearer error="invalid_token"' },
      );
      return;
    }

    if (method === "GET" && path === "/v1/models") {
      answerJson(200, { object: "list", data: models.map(modelObject) });
      return;
    }

    if (method === "GET" && path.startsWith("/v1/models/")) {
      const id = decodeURIComponent(path.slice("/v1/models/".length));
      if (models.includes(id)) answerJson(200, modelObject(id));
      else answerJson(404, openAiError(`The model '${id}' does not exist.`, "model_not_found"));
      return;
    }

    if (method === "POST" && path === "/v1/chat/completions") {
      const body = record.body;
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        answerJson(400, openAiError("Request body must be a JSON object.", "invalid_body"));
        return;
      }
      const chat = body as ChatCompletionBody;
      const model = typeof chat.model === "string" ? chat.model : (models[0] ?? "demo-model");
      if (!models.includes(model)) {
        answerJson(404, openAiError(`The model '${model}' does not exist.`, "model_not_found"));
        return;
      }
      const text = typeof answer === "function" ? answer(chat) : answer;
      const lines = options.completionHeaders ?? [];
      for (let i = 0; i + 1 < lines.length; i += 2) {
        res.appendHeader(lines[i] as string, lines[i + 1] as string);
      }
      if (chat.stream === true) {
        record.status = 200;
        await stream(res, completionEvents(model, text, chat), record);
      } else {
        answerJson(200, completionBody(model, text, chat));
      }
      return;
    }

    answerJson(404, openAiError(`No route for ${method} ${path}.`, "not_found"));
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
    get streamFinished() {
      return streamFinished;
    },
    chatRequests: () =>
      requests.filter((r) => r.method === "POST" && r.path === "/v1/chat/completions"),
    failNextWith401(n = 1) {
      forced401 = Math.max(0, Math.floor(n));
    },
    pendingForced401: () => forced401,
    setAnswer(next) {
      answer = next;
    },
    holdAfterFirstWord() {
      let release!: () => void;
      hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => {
        hold = undefined;
        release();
      };
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
