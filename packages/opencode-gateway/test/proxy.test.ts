import { request as httpRequest } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { DEMO_PREFIX } from "../src/index.js";
import {
  cliToken,
  type RunningGateway,
  readChunks,
  startGateway,
  testConfig,
} from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll, forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import { startUpstream, UPSTREAM_ANSWER, type Upstream } from "./fixtures/upstream.js";

/** What reaches the upstream, what comes back, and what happens when the upstream fails. */

let idp: IssuerStub;
let upstream: Upstream;
let gw: RunningGateway;
let demo: RunningGateway;
let token: string;

beforeAll(async () => {
  idp = await startIssuerStub();
  // The answer's own hop-by-hop header, named by its Connection header, next to a repeated one.
  upstream = await startUpstream([
    "x-trace",
    "a",
    "x-trace",
    "b",
    "connection",
    "keep-alive, x-hop-answer",
    "x-hop-answer",
    "internal",
  ]);
  gw = await startGateway(
    testConfig(idp.issuer, {
      baseURL: upstream.baseURL,
      apiKey: "sk-upstream",
      subjectHeader: "x-user-id",
      headersTimeoutMs: 1000,
    }),
  );
  demo = await startGateway(testConfig(idp.issuer, { demo: true }));
  token = await cliToken(idp, "carol");
});
closeAfterAll(() => ({ gateways: [gw, demo], upstream, idp }));
forgetUpstreamRequests(() => upstream);

/** node:http as the client, so hop-by-hop headers fetch would refuse can be sent. */
function rawGet(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * POSTs `parts` chunked, one every `gapMs`, as `application/octet-stream`: a body the gateway
 * streams to the upstream (only JSON is read whole), as an audio upload is.
 */
function slowUpload(
  url: string,
  parts: string[],
  gapMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    const next = (i: number) => {
      if (i === parts.length) {
        req.end();
        return;
      }
      req.write(parts[i]);
      setTimeout(() => next(i + 1), gapMs);
    };
    next(0);
  });
}

describe("the request the upstream gets", () => {
  it("carries the upstream's key, not the user's token, and no hop-by-hop headers", async () => {
    const status = await rawGet(`${gw.url}/v1/models?limit=5&order=asc`, {
      authorization: `Bearer ${token}`,
      connection: "keep-alive, x-hop",
      "x-hop": "drop me",
      "keep-alive": "timeout=5",
      "proxy-authorization": "Basic c2VjcmV0",
      cookie: "session=abc",
      "x-user-id": "mallory",
      "x-request-id": "req-42",
      "openai-organization": "team",
      "accept-encoding": "gzip, br",
    });
    expect(status).toBe(200);
    const [seen] = upstream.requests;
    expect(seen?.path).toBe("/v1/models");
    expect(seen?.search).toBe("?limit=5&order=asc");
    expect(seen?.headers.authorization).toBe("Bearer sk-upstream");
    expect(seen?.headers["x-user-id"]).toBe("carol");
    expect(seen?.headers["x-request-id"]).toBe("req-42");
    expect(seen?.headers["openai-organization"]).toBe("team");
    expect(seen?.headers.host).toBe(new URL(upstream.baseURL).host);
    // The answer is relayed as it comes: the upstream is asked for it uncompressed, only.
    expect(seen?.headers["accept-encoding"]).toBe("identity");
    for (const gone of ["x-hop", "keep-alive", "proxy-authorization", "cookie"]) {
      expect(seen?.headers[gone], gone).toBeUndefined();
    }
    expect(JSON.stringify(seen?.headers)).not.toContain(token);
  });

  it("passes a JSON body through unchanged, and the answer back", async () => {
    const body = JSON.stringify({
      model: "team/coder",
      messages: [{ role: "user", content: "é ✓" }],
    });
    const response = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(200);
    const answer = await response.text();
    expect(answer).toBe(upstream.requests[0]?.response);
    expect(JSON.parse(answer).choices[0].message.content).toBe(UPSTREAM_ANSWER);
    expect(upstream.requests[0]?.rawBody).toBe(body);
    expect(upstream.requests[0]?.headers["content-type"]).toBe("application/json");
    // The answer's headers: both lines of a repeated one, none its Connection header names.
    expect(response.headers.get("x-trace")).toBe("a, b");
    expect(response.headers.get("x-hop-answer")).toBeNull();
  });

  it("answers 504 when the upstream sends no headers in time", async () => {
    const response = await fetch(`${gw.url}/v1/slow`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { code: "upstream_timeout" } });
  });

  it("answers 504 when the upstream takes a streamed upload and sends no headers in time", async () => {
    const answer = await slowUpload(`${gw.url}/v1/slow`, ["a", "b"], 0);
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "upstream_timeout" } });
    expect(upstream.requests[0]?.rawBody).toBe("ab");
  });

  it("does not cut a streamed upload slower than upstream.headersTimeoutMs: the wait starts once it is sent", async () => {
    // Six parts 300 ms apart: the upload alone takes longer than the gateway's 1000 ms.
    const parts = ["p1", "p2", "p3", "p4", "p5", "p6"];
    const answer = await slowUpload(`${gw.url}/v1/audio/transcriptions`, parts, 300);
    // The model server's own answer (it has no such route), not the gateway's 504.
    expect(upstream.requests[0]?.rawBody).toBe(parts.join(""));
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "not_found" } });
  });

  it("answers 502 when the upstream is down", async () => {
    const down = await startGateway(testConfig(idp.issuer, { baseURL: "http://127.0.0.1:9/v1" }));
    try {
      const response = await fetch(`${down.url}/v1/models`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({ error: { code: "upstream_unreachable" } });
    } finally {
      await down.close();
    }
  });
});

describe("the demo model behind the gateway", () => {
  const ask = (stream: boolean, model = "team/coder") =>
    fetch(`${demo.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        model,
        stream,
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: [{ type: "text", text: "what is two plus two" }] },
        ],
      }),
    });
  const expected = `${DEMO_PREFIX} what is two plus two`;

  it("streams a deterministic answer word by word", async () => {
    const response = await ask(true);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = (await readChunks(response)).join("");
    const events = text.split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    const words = events
      .slice(0, -1)
      .map((e) => JSON.parse(e.slice("data: ".length)).choices[0]?.delta?.content ?? "");
    expect(words.filter(Boolean).length).toBe(expected.split(" ").length);
    expect(words.join("")).toBe(expected);
  });

  it("answers the same text without streaming, and lists its models", async () => {
    const body = (await (await ask(false)).json()) as {
      choices: { message: { content: string } }[];
    };
    expect(body.choices[0]?.message.content).toBe(expected);
    const models = await fetch(`${demo.url}/v1/models`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const list = (await models.json()) as { data: { id: string }[] };
    expect(list.data.map((m) => m.id)).toEqual(["team/coder", "team/small"]);
  });

  it("refuses an unknown model with 404 and requires a token like any upstream", async () => {
    expect((await ask(false, "gpt-9")).status).toBe(404);
    const anonymous = await fetch(`${demo.url}/v1/models`);
    expect(anonymous.status).toBe(401);
  });
});
