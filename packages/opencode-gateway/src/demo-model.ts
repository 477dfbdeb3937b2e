import { Hono } from "hono";

/**
 * A built-in, deterministic OpenAI-compatible model for the demo and tests: `GET /v1/models` and
 * `POST /v1/chat/completions` (plain JSON, or SSE streamed word by word). The answer is always
 * {@link DEMO_PREFIX} followed by the last user message, so a test can predict every byte of it.
 * It stands where the upstream would: the gateway's proxy forwards to it like to any upstream.
 */

export const DEMO_PREFIX = "Hello from the opencode gateway demo model. You said:";

export interface DemoModelOptions {
  models: readonly string[];
  /** Pause between streamed chunks (default 0). */
  chunkDelayMs?: number;
}

type Message = { role?: unknown; content?: unknown };

/** The text of a message: a string, or the text parts of a content array. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) =>
      typeof part === "object" && part !== null && (part as { type?: unknown }).type === "text"
        ? String((part as { text?: unknown }).text ?? "")
        : "",
    )
    .join("");
}

/** The demo's deterministic answer to a list of chat messages. */
export function demoAnswer(messages: readonly Message[]): string {
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  const said = lastUser ? textOf(lastUser.content).trim() : "";
  return said ? `${DEMO_PREFIX} ${said}` : `${DEMO_PREFIX} nothing.`;
}

/** Words with their trailing space: concatenated they give back the text. */
export const splitWords = (text: string): string[] => text.match(/\S+\s*|\s+/g) ?? [text];

const countTokens = (text: string) => splitWords(text).length;

const apiError = (message: string, code: string) => ({
  error: { message, type: "invalid_request_error", param: null, code },
});

export function createDemoModel(options: DemoModelOptions): Hono {
  const app = new Hono();
  const delay = options.chunkDelayMs ?? 0;

  app.get("/v1/models", (c) =>
    c.json({
      object: "list",
      data: options.models.map((id) => ({ id, object: "model", created: 0, owned_by: "demo" })),
    }),
  );

  app.post("/v1/chat/completions", async (c) => {
    const body = (await c.req.json().catch(() => null)) as {
      model?: unknown;
      messages?: unknown;
      stream?: unknown;
      stream_options?: { include_usage?: unknown };
    } | null;
    if (!body || !Array.isArray(body.messages)) {
      return c.json(apiError("expected a JSON body with messages", "invalid_body"), 400);
    }
    const model = typeof body.model === "string" ? body.model : "";
    if (!options.models.includes(model)) {
      return c.json(apiError(`The model '${model}' does not exist.`, "model_not_found"), 404);
    }
    const text = demoAnswer(body.messages as Message[]);
    const prompt = countTokens(
      (body.messages as Message[]).map((m) => textOf(m.content)).join(" "),
    );
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: countTokens(text),
      total_tokens: prompt + countTokens(text),
    };
    const id = "chatcmpl-demo";
    if (body.stream !== true) {
      return c.json({
        id,
        object: "chat.completion",
        created: 0,
        model,
        choices: [
          { index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" },
        ],
        usage,
      });
    }
    const chunk = (choices: unknown[], extra: object = {}) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: 0, model, choices, ...extra })}\n\n`;
    const events = [
      chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]),
      ...splitWords(text).map((word) =>
        chunk([{ index: 0, delta: { content: word }, finish_reason: null }]),
      ),
      chunk([{ index: 0, delta: {}, finish_reason: "stop" }]),
      ...(body.stream_options?.include_usage === true ? [chunk([], { usage })] : []),
      "data: [DONE]\n\n",
    ];
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = events.shift();
        if (next === undefined) {
          controller.close();
          return;
        }
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        controller.enqueue(encoder.encode(next));
      },
    });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
    });
  });

  app.notFound((c) =>
    c.json(apiError(`No route for ${c.req.method} ${c.req.path}.`, "not_found"), 404),
  );
  return app;
}
