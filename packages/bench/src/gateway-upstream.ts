import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The model server behind the gateway figure, as fast as Node answers: `POST
 * /v1/chat/completions` gets a fixed chat completion, or with `"stream": true` an SSE stream of
 * 23 events (role, 20 words, finish, usage when asked, [DONE]) written one by one with no pause.
 * Run as its own process; prints its port on stdout.
 */

const WORDS = Array.from({ length: 20 }, (_, i) => `word${i} `);
const usage = { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 };
const chunk = (choices: unknown[], extra: object = {}) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 0, model: "bench-model", choices, ...extra })}\n\n`;
const EVENTS = [
  chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]),
  ...WORDS.map((w) => chunk([{ index: 0, delta: { content: w }, finish_reason: null }])),
  chunk([{ index: 0, delta: {}, finish_reason: "stop" }]),
];
const USAGE_EVENT = chunk([], { usage });
const COMPLETION = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 0,
  model: "bench-model",
  choices: [
    { index: 0, message: { role: "assistant", content: WORDS.join("") }, finish_reason: "stop" },
  ],
  usage,
});

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (part: Buffer) => parts.push(part));
  req.on("end", () => {
    const body = Buffer.concat(parts).toString("utf8");
    if (!/"stream"\s*:\s*true/.test(body)) {
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(COMPLETION),
      });
      res.end(COMPLETION);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for (const event of EVENTS) res.write(event);
    if (/"include_usage"\s*:\s*true/.test(body)) res.write(USAGE_EVENT);
    res.end("data: [DONE]\n\n");
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
