import { type FakeLlm, startFakeLlm } from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { cliToken, testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { startUpstream, UPSTREAM_ANSWER, type Upstream } from "./fixtures/upstream.js";

/**
 * A model server that stops sending in the middle of its answer (a crashed worker behind a
 * load balancer that keeps the connection open): the gateway must not hold the client's
 * connection, and its own to the model server, for as long as the client is willing to wait.
 */

let idp: IssuerStub;
let upstream: Upstream;
/** Sends each event 400 ms after the one before: a slow model that is alive. */
let steady: FakeLlm;
let gw: BuiltGateway;
let steadyGw: BuiltGateway;
let token: string;

beforeAll(async () => {
  idp = await startIssuerStub();
  upstream = await startUpstream();
  steady = await startFakeLlm({
    models: ["team/coder"],
    answer: UPSTREAM_ANSWER,
    streamDelayMs: 400,
  });
  [gw, steadyGw] = await Promise.all([
    startBuiltGateway(testConfig(idp.issuer, { baseURL: upstream.baseURL, bodyTimeoutMs: 1000 })),
    startBuiltGateway(testConfig(idp.issuer, { baseURL: steady.baseURL, bodyTimeoutMs: 1000 })),
  ]);
  token = await cliToken(idp, "heidi");
});
afterAll(async () => {
  await gw?.close();
  await steadyGw?.close();
  await upstream?.close();
  await steady?.close();
  await idp?.close();
});

const stream = (through = gw) =>
  fetch(`${through.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "team/coder",
      stream: true,
      messages: [{ role: "user", content: "hello" }],
    }),
  });

/** Reads the body until it ends, fails, or `ms` pass: what the client got, and how it ended. */
async function readFor(response: Response, ms: number) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    const next = await Promise.race([
      reader.read().then(
        (read) => (read.done ? ("ended" as const) : read.value),
        () => "cut" as const,
      ),
      new Promise<"still open">((resolve) => setTimeout(() => resolve("still open"), left)),
    ]);
    if (typeof next === "string") return { text, how: next };
    text += decoder.decode(next, { stream: true });
  }
}

describe("a model server that stalls mid-answer", () => {
  it("is cut after upstream.bodyTimeoutMs without a byte: the client's stream ends unfinished, the model server's request is aborted", async () => {
    const release = upstream.holdAfterFirstWord();
    try {
      const response = await stream();
      expect(response.status).toBe(200);
      const started = Date.now();
      const { text, how } = await readFor(response, 8000);
      // The first word came; then nothing for 1 s, and the gateway gave up on the model server.
      expect(text).toContain(UPSTREAM_ANSWER.split(" ")[0]);
      expect(text).not.toContain("[DONE]");
      expect(how).toBe("cut");
      expect(Date.now() - started).toBeLessThan(5000);
      const [stalled] = await gw.logged("gateway_upstream_stalled");
      expect(stalled).toMatchObject({
        level: "warn",
        path: "/v1/chat/completions",
        timeoutMs: 1000,
      });
      await expect.poll(() => upstream.requests.at(-1)?.aborted, { timeout: 3000 }).toBe(true);
    } finally {
      release();
    }
  });

  it("a stream whose events keep coming is never cut, however long it lasts in all", async () => {
    // Each pause is 400 ms, the whole answer several times the 1 s the gateway allows a pause.
    const started = Date.now();
    const response = await stream(steadyGw);
    const { text, how } = await readFor(response, 15_000);
    expect(how).toBe("ended");
    expect(text).toContain(UPSTREAM_ANSWER.split(" ").at(-1));
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(Date.now() - started).toBeGreaterThan(1500);
  });
});
