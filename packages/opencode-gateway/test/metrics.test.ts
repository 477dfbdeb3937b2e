import { startFakeLlm } from "@vymalo/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { AUDIENCE, CLI_CLIENT, readChunks, testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll } from "./fixtures/lifecycle.js";
import { type Exposition, parseExposition } from "./fixtures/prometheus-text.js";
import { chatAs, inOneMinute, loggedTimes } from "./fixtures/quota.js";
import type { Upstream } from "./fixtures/upstream.js";

/**
 * /metrics of the built gateway, scraped over HTTP from its own listener and read with a strict
 * parser of the text format: requests by route, status, model and token-check outcome, the
 * upstream latency histogram, tokens by model, quota refusals — and no user anywhere in it.
 * The public port has no /metrics, and allowFrom keeps other addresses out.
 */

let idp: IssuerStub;
let upstream: Upstream;
let gw: BuiltGateway;
let fenced: BuiltGateway;

beforeAll(async () => {
  idp = await startIssuerStub();
  upstream = await startFakeLlm({ models: ["team/coder", "rogue/model"], answer: "Two words." });
  const config = (metrics: Record<string, unknown>) =>
    testConfig(
      idp.issuer,
      { baseURL: upstream.baseURL },
      { metrics: { port: 0, ...metrics }, quota: { user: { requestsPerMinute: 4 } } },
    );
  [gw, fenced] = await Promise.all([
    startBuiltGateway(config({})),
    startBuiltGateway(config({ allowFrom: ["10.0.0.0/8"] })),
  ]);
});
closeAfterAll(() => ({ gateways: [gw, fenced], upstream, idp }));

/** The metrics listener's URL, from the gateway's own log. */
async function metricsUrl(gateway: BuiltGateway): Promise<string> {
  const [record] = await gateway.logged("gateway_metrics_listening");
  if (!record) throw new Error("no gateway_metrics_listening record");
  return `http://127.0.0.1:${record.port as number}/metrics`;
}

async function scrape(gateway: BuiltGateway): Promise<{ text: string; parsed: Exposition }> {
  const response = await fetch(await metricsUrl(gateway));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  return { text, parsed: parseExposition(text) };
}

const usageOf = (response: string | undefined) => {
  const match = /"prompt_tokens":(\d+),"completion_tokens":(\d+)/.exec(response ?? "");
  if (!match) throw new Error(`no usage in ${response}`);
  return { prompt: Number(match[1]), completion: Number(match[2]) };
};

describe("/metrics", () => {
  it("counts requests by route, status, model and token check, with latency and tokens", async () => {
    await inOneMinute();
    const quinn = { sub: "quinn" };
    expect((await chatAs(idp, gw, quinn)).status).toBe(200);
    expect((await chatAs(idp, gw, quinn, { stream: true })).status).toBe(200);
    const token = await idp.sign({ iss: idp.issuer, aud: AUDIENCE, azp: CLI_CLIENT, sub: "quinn" });
    const rogue = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "rogue/model", messages: [{ role: "user", content: "x" }] }),
    });
    await readChunks(rogue);
    expect(rogue.status).toBe(200);
    expect((await chatAs(idp, gw, quinn)).status).toBe(200);
    expect((await chatAs(idp, gw, quinn)).status).toBe(429);
    expect((await fetch(`${gw.url}/v1/chat/completions`, { method: "POST" })).status).toBe(401);
    const expired = await idp.sign(
      { iss: idp.issuer, aud: AUDIENCE, azp: CLI_CLIENT, exp: Math.floor(Date.now() / 1000) - 600 },
      { ttlSec: null },
    );
    const refused = await fetch(`${gw.url}/v1/models-info`, {
      headers: { authorization: `Bearer ${expired}` },
    });
    expect(refused.status).toBe(401);
    const info = await fetch(`${gw.url}/v1/models-info`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(info.status).toBe(200);
    await loggedTimes(gw, "gateway_usage_recorded", 4);

    const { text, parsed } = await scrape(gw);
    const requests = (labels: Record<string, string>) =>
      parsed.value("opencode_gateway_requests_total", labels);
    expect(parsed.types.get("opencode_gateway_requests_total")).toBe("counter");
    const chat = "/v1/chat/completions";
    expect(requests({ route: chat, status: "200", model: "team/coder", auth: "ok" })).toBe(3);
    expect(requests({ route: chat, status: "200", model: "other", auth: "ok" })).toBe(1);
    expect(requests({ route: chat, status: "429", model: "team/coder", auth: "ok" })).toBe(1);
    expect(requests({ route: chat, status: "401", model: "none", auth: "missing" })).toBe(1);
    const models = "/v1/models-info";
    expect(requests({ route: models, status: "401", model: "none", auth: "expired" })).toBe(1);
    expect(requests({ route: models, status: "200", model: "none", auth: "ok" })).toBe(1);

    expect(parsed.types.get("opencode_gateway_upstream_duration_seconds")).toBe("histogram");
    const upstreamLabels = { route: chat, model: "team/coder", status: "200" };
    expect(parsed.value("opencode_gateway_upstream_duration_seconds_count", upstreamLabels)).toBe(
      3,
    );
    const buckets = parsed.samples
      .filter(
        (s) =>
          s.name === "opencode_gateway_upstream_duration_seconds_bucket" &&
          s.labels.model === "team/coder" &&
          s.labels.status === "200",
      )
      .map((s) => ({ le: Number(s.labels.le === "+Inf" ? Infinity : s.labels.le), value: s.value }))
      .sort((a, b) => a.le - b.le);
    expect(buckets.length).toBeGreaterThan(5);
    expect(buckets.at(-1)).toEqual({ le: Infinity, value: 3 });
    const counts = buckets.map((b) => b.value);
    expect(counts).toEqual([...counts].sort((a, b) => a - b)); // cumulative
    expect(
      parsed.value("opencode_gateway_upstream_duration_seconds_sum", upstreamLabels),
    ).toBeGreaterThan(0);

    const coder = upstream
      .chatRequests()
      .filter((r) => (r.body as { model: string }).model === "team/coder")
      .map((r) => usageOf(r.response));
    expect(coder).toHaveLength(3);
    const sum = (key: "prompt" | "completion") => coder.reduce((n, u) => n + u[key], 0);
    expect(
      parsed.value("opencode_gateway_tokens_total", { model: "team/coder", kind: "prompt" }),
    ).toBe(sum("prompt"));
    expect(
      parsed.value("opencode_gateway_tokens_total", { model: "team/coder", kind: "completion" }),
    ).toBe(sum("completion"));
    expect(
      parsed.value("opencode_gateway_quota_refusals_total", { scope: "user", limit: "requests" }),
    ).toBe(1);
    expect(parsed.types.get("process_resident_memory_bytes")).toBe("gauge");

    // Who used what is in the log, never in a label.
    expect(text).not.toContain("quinn");
    expect(await gw.logged("gateway_usage_recorded")).toContainEqual(
      expect.objectContaining({
        event: "gateway_usage_recorded",
        sub: "quinn",
        client: CLI_CLIENT,
        model: "team/coder",
        status: 200,
        stream: true,
      }),
    );
  });

  it("is not on the public port, and allowFrom refuses other addresses", async () => {
    expect(new URL(await metricsUrl(gw)).port).not.toBe(String(gw.port));
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(404);
    const outside = await fetch(await metricsUrl(fenced));
    expect(outside.status).toBe(403);
    expect(await outside.text()).not.toContain("gateway_");
  });

  it("the test's own reader of the format refuses what is not the format", () => {
    expect(() => parseExposition("up 1\n")).toThrow(/before its TYPE/);
    expect(() => parseExposition('# TYPE up gauge\nup{job="a} 1\n')).toThrow(/bad labels/);
    expect(() => parseExposition("# TYPE up gauge\nup one\n")).toThrow(/bad value/);
    expect(() => parseExposition("# TYPE up gauge\nup 1")).toThrow(/newline/);
    const ok = parseExposition('# TYPE up gauge\nup{job="a\\"b"} +Inf\n');
    expect(ok.value("up", { job: 'a"b' })).toBe(Infinity);
  });
});
