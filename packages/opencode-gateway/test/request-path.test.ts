import { request as httpRequest } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import type { Admission, Outcome, Refusal, V1Call, V1Hooks } from "../src/index.js";
import {
  cliToken,
  type RunningGateway,
  readChunks,
  startGateway,
  testConfig,
} from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll, forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import {
  readWhileHeld,
  startUpstream,
  UPSTREAM_ANSWER,
  type Upstream,
} from "./fixtures/upstream.js";

/**
 * The /v1/* request path over HTTP: answers are relayed as they arrive, a client that goes away
 * aborts the upstream request, and the hooks (v1/hooks.ts) see each call — the body's model,
 * the upstream's usage — and can refuse one before the upstream is called.
 */

let idp: IssuerStub;
let upstream: Upstream;
let plain: RunningGateway;
let hooked: RunningGateway;
let token: string;
const seen: { admitted: V1Call[]; settled: Array<[V1Call, Outcome]> } = {
  admitted: [],
  settled: [],
};

const hooks: V1Hooks = {
  wantsUsage: true,
  admit(call): Refusal | Admission {
    seen.admitted.push(call);
    if (call.model === "team/small") {
      return {
        status: 403,
        headers: { "x-refused-by": "hook" },
        body: { error: { message: "not for you", type: "permission_error", code: "model" } },
      };
    }
    return { headers: { "ratelimit-remaining": "41" } };
  },
  settle(call, outcome) {
    seen.settled.push([call, outcome]);
  },
};

beforeAll(async () => {
  idp = await startIssuerStub();
  upstream = await startUpstream();
  plain = await startGateway(testConfig(idp.issuer, { baseURL: upstream.baseURL }));
  hooked = await startGateway(testConfig(idp.issuer, { baseURL: upstream.baseURL }), { hooks });
  token = await cliToken(idp, "grace");
});
closeAfterAll(() => ({ gateways: [plain, hooked], upstream, idp }));
forgetUpstreamRequests(() => upstream);

const chat = (gw: RunningGateway, body: object) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const messages = [{ role: "user", content: "hello" }];
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  return check();
};
const events = (text: string) =>
  text
    .split("\n\n")
    .filter(Boolean)
    .map((e) => e.slice("data: ".length));

describe("relaying", () => {
  it("passes each SSE event on as the upstream sends it, not when the stream ends", async () => {
    const release = upstream.holdAfterFirstWord();
    const response = await chat(plain, { model: "team/coder", stream: true, messages });
    const { firstWordWhileHeld, text } = await readWhileHeld(upstream, response, release);
    // The upstream was still holding the rest of the answer back.
    expect(firstWordWhileHeld).toBe(true);
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("a client that goes away mid-stream aborts the upstream request", async () => {
    const release = upstream.holdAfterFirstWord();
    try {
      const body = JSON.stringify({ model: "team/coder", stream: true, messages });
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(
          `${plain.url}/v1/chat/completions`,
          {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          },
          (res) => {
            res.once("data", () => {
              req.destroy();
              resolve();
            });
          },
        );
        req.on("error", () => undefined);
        req.once("error", reject);
        req.end(body);
      });
      expect(await until(() => upstream.chatRequests()[0]?.aborted === true)).toBe(true);
      expect(upstream.streamFinished).toBe(false);
    } finally {
      release();
    }
  });

  it("a client that goes away before the upstream answers aborts the upstream request", async () => {
    const controller = new AbortController();
    const pending = fetch(`${plain.url}/v1/slow`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    }).catch((error: unknown) => error);
    expect(await until(() => upstream.requests.length === 1)).toBe(true);
    controller.abort();
    await pending;
    expect(await until(() => upstream.requests[0]?.aborted === true)).toBe(true);
  });
});

describe("the hooks", () => {
  it("a refusal from admit is the answer, and the upstream is never called", async () => {
    seen.admitted.length = 0;
    seen.settled.length = 0;
    const response = await chat(hooked, { model: "team/small", messages });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-refused-by")).toBe("hook");
    expect(await response.json()).toEqual({
      error: { message: "not for you", type: "permission_error", code: "model" },
    });
    expect(upstream.requests).toHaveLength(0);
    expect(seen.admitted[0]).toMatchObject({
      subject: "grace",
      route: "/v1/chat/completions",
      method: "POST",
      model: "team/small",
      stream: false,
    });
    expect(seen.settled).toHaveLength(0);
  });

  it("an admitted call gets the admission's headers, and settle gets the JSON answer's usage", async () => {
    seen.settled.length = 0;
    const response = await chat(hooked, { model: "team/coder", messages });
    expect(response.status).toBe(200);
    expect(response.headers.get("ratelimit-remaining")).toBe("41");
    const answer = (await response.json()) as { usage: Record<string, number> };
    expect(await until(() => seen.settled.length === 1)).toBe(true);
    const [call, outcome] = seen.settled[0] as [V1Call, Outcome];
    expect(call.model).toBe("team/coder");
    expect(outcome).toMatchObject({
      status: 200,
      aborted: false,
      usage: {
        promptTokens: answer.usage.prompt_tokens,
        completionTokens: answer.usage.completion_tokens,
        totalTokens: answer.usage.total_tokens,
      },
    });
  });

  it("asks a stream for its usage when the client did not, and gives the client the stream it asked for", async () => {
    seen.settled.length = 0;
    const body = { model: "team/coder", stream: true, messages };
    const response = await chat(hooked, body);
    const text = (await readChunks(response)).join("");
    const sent = upstream.chatRequests()[0];
    // The client's bytes, with the one field spliced in before the closing brace.
    expect(sent?.rawBody).toBe(
      `${JSON.stringify(body).slice(0, -1)},"stream_options":{"include_usage":true}}`,
    );
    expect(sent?.response).toContain('"usage"');
    expect(text).not.toContain('"usage"');
    const words = events(text)
      .slice(0, -1)
      .map((e) => JSON.parse(e).choices[0]?.delta?.content ?? "")
      .join("");
    expect(words).toBe(UPSTREAM_ANSWER);
    expect(events(text).at(-1)).toBe("[DONE]");
    expect(await until(() => seen.settled.length === 1)).toBe(true);
    const usage = JSON.parse(
      (sent?.response ?? "")
        .split("\n\n")
        .find((e) => e.includes('"usage"'))
        ?.slice(6) ?? "{}",
    ).usage;
    expect(seen.settled[0]?.[1].usage).toEqual({
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      totalTokens: usage.total_tokens,
    });
  });

  it("leaves a stream that asked for usage as it is, usage chunk included", async () => {
    seen.settled.length = 0;
    const body = JSON.stringify({
      model: "team/coder",
      stream: true,
      stream_options: { include_usage: true },
      messages,
    });
    const response = await fetch(`${hooked.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
    });
    const text = (await readChunks(response)).join("");
    expect(upstream.chatRequests()[0]?.rawBody).toBe(body);
    expect(text).toBe(upstream.chatRequests()[0]?.response);
    expect(await until(() => seen.settled.length === 1)).toBe(true);
    expect(seen.settled[0]?.[1].usage?.totalTokens).toBeGreaterThan(0);
  });

  it("keeps the client's other stream_options when it adds include_usage", async () => {
    const response = await chat(hooked, {
      model: "team/coder",
      stream: true,
      stream_options: { include_usage: false, continuous_usage_stats: false },
      messages,
    });
    await readChunks(response);
    expect(upstream.chatRequests()[0]?.body).toMatchObject({
      stream_options: { include_usage: true, continuous_usage_stats: false },
    });
  });
});
