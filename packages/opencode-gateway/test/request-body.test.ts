import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { cliToken, testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll, forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import { rawRequest } from "./fixtures/raw-http.js";
import { startUpstream, type Upstream } from "./fixtures/upstream.js";

/**
 * Request bodies through the built gateway: curl's `Expect: 100-continue` (sent for bodies over
 * 1 MiB) reaches the upstream as a normal request, the body size is limited — declared or
 * chunked — and a failed upstream call is logged with its real cause.
 */

const MiB = 1024 * 1024;
let idp: IssuerStub;
let upstream: Upstream;
let gw: BuiltGateway;
let small: BuiltGateway;
let token: string;

beforeAll(async () => {
  idp = await startIssuerStub();
  upstream = await startUpstream();
  [gw, small] = await Promise.all([
    startBuiltGateway(testConfig(idp.issuer, { baseURL: upstream.baseURL })),
    startBuiltGateway(
      testConfig(
        idp.issuer,
        { baseURL: upstream.baseURL },
        { listen: { host: "127.0.0.1", port: 0, maxBodyBytes: MiB } },
      ),
    ),
  ]);
  token = await cliToken(idp, "erin");
});
closeAfterAll(() => ({ gateways: [gw, small], upstream, idp }));
forgetUpstreamRequests(() => upstream);

/** A chat completion request whose JSON is exactly `size` bytes. */
function chatBody(size: number): Buffer {
  const shell = JSON.stringify({ model: "team/coder", messages: [{ role: "user", content: "" }] });
  const content = "x".repeat(size - Buffer.byteLength(shell));
  return Buffer.from(
    JSON.stringify({ model: "team/coder", messages: [{ role: "user", content }] }),
  );
}

const chat = { method: "POST", path: "/v1/chat/completions" };

/** A loopback port nothing listens on (fetch refuses well-known ones such as 9 outright). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
const authed = () => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

describe("Expect: 100-continue", () => {
  it("a 2 MiB body sent after 100 Continue reaches the upstream whole, without Expect", async () => {
    const body = chatBody(2 * MiB);
    const answer = await rawRequest(gw.url, {
      ...chat,
      headers: authed(),
      body,
      expectContinue: true,
    });
    expect(answer.continued).toBe(true);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ choices: [{ message: {} }] });
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.rawBody.length).toBe(body.length);
    expect(upstream.requests[0]?.headers.expect).toBeUndefined();
  });

  it("an unauthenticated request gets its 401 without 100 Continue (the body is never sent)", async () => {
    const answer = await rawRequest(gw.url, {
      ...chat,
      headers: { "content-type": "application/json" },
      body: chatBody(2 * MiB),
      expectContinue: true,
    });
    expect(answer.status).toBe(401);
    expect(answer.continued).toBe(false);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("the body size limit", () => {
  it("refuses a declared length over the default 32 MiB with 413, before reading a byte", async () => {
    const answer = await rawRequest(gw.url, {
      ...chat,
      headers: authed(),
      declaredLength: 32 * MiB + 1,
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "body_too_large" } });
    expect(upstream.requests).toHaveLength(0);
  });

  it("passes a chunked body of exactly the limit", async () => {
    const body = chatBody(MiB);
    const answer = await rawRequest(small.url, { ...chat, headers: authed(), body, chunked: true });
    expect(answer.status).toBe(200);
    expect(upstream.requests[0]?.rawBody.length).toBe(MiB);
  });

  it("refuses a chunked body one byte over the limit with 413; the upstream gets no whole request", async () => {
    const answer = await rawRequest(small.url, {
      ...chat,
      headers: authed(),
      body: chatBody(MiB + 1),
      chunked: true,
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "body_too_large" } });
    expect(upstream.requests).toHaveLength(0);
  });

  it("refuses a declared length over a configured limit", async () => {
    const answer = await rawRequest(small.url, {
      ...chat,
      headers: authed(),
      declaredLength: MiB + 1,
    });
    expect(answer.status).toBe(413);
  });
});

describe("an upstream that cannot be reached", () => {
  it("answers 502 and logs the real cause (the connection error), not a blanket blame", async () => {
    const port = await closedPort();
    const down = await startBuiltGateway(
      testConfig(idp.issuer, { baseURL: `http://127.0.0.1:${port}/v1` }),
    );
    try {
      const answer = await rawRequest(down.url, { path: "/v1/models", headers: authed() });
      expect(answer.status).toBe(502);
      const [record] = await down.logged("gateway_upstream_unreachable");
      expect(record).toMatchObject({ level: "error", error_code: "ECONNREFUSED" });
      expect(String(record?.detail)).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    } finally {
      await down.close();
    }
  });
});
