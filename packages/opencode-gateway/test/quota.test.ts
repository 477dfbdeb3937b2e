import { startFakeLlm } from "@vymalo/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll, forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import { chatAs, inOneMinute, loggedTimes, upstreamTotal } from "./fixtures/quota.js";
import type { Upstream } from "./fixtures/upstream.js";

/**
 * Quotas counted in one gateway's memory, through the built gateway: requests per minute per
 * user, tokens per day from the upstream's usage (also for a stream whose client did not ask
 * for usage), a group's shared limit, and the 429 with Retry-After and the RateLimit-* fields of
 * draft-ietf-httpapi-ratelimit-headers-06.
 */

let idp: IssuerStub;
let upstream: Upstream;
let perUser: BuiltGateway;
let tokens: BuiltGateway;
let group: BuiltGateway;

beforeAll(async () => {
  idp = await startIssuerStub();
  upstream = await startFakeLlm({ models: ["team/coder"], answer: "Fine." });
  const withQuota = (quota: Record<string, unknown>) =>
    startBuiltGateway(testConfig(idp.issuer, { baseURL: upstream.baseURL }, { quota }));
  [perUser, tokens, group] = await Promise.all([
    withQuota({ user: { requestsPerMinute: 3 } }),
    withQuota({ user: { tokensPerDay: 15 } }),
    withQuota({ groups: { "/interns": { requestsPerMinute: 2 } } }),
  ]);
});
closeAfterAll(() => ({ gateways: [perUser, tokens, group], upstream, idp }));
forgetUpstreamRequests(() => upstream);

describe("requests per minute, per user", () => {
  it("admits the limit with RateLimit-* fields, then answers 429 with Retry-After", async () => {
    await inOneMinute();
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await chatAs(idp, perUser, { sub: "erin" }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers.get("ratelimit-remaining"))).toEqual(["2", "1", "0", "0"]);
    for (const answer of answers) {
      expect(answer.headers.get("ratelimit-limit")).toBe("3");
      expect(answer.headers.get("ratelimit-policy")).toBe('3;w=60;comment="user requests"');
      const reset = Number(answer.headers.get("ratelimit-reset"));
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(60);
    }
    const refused = answers[3] as (typeof answers)[number];
    expect(refused.headers.get("retry-after")).toBe(refused.headers.get("ratelimit-reset"));
    expect(JSON.parse(refused.text)).toEqual({
      error: {
        message: `your limit of 3 requests per minute is spent; try again in ${refused.headers.get("retry-after")} s`,
        type: "requests",
        code: "rate_limit_exceeded",
      },
    });
    // The refused call never reached the upstream, and did not count.
    expect(upstream.chatRequests()).toHaveLength(3);
    expect(await perUser.logged("gateway_quota_exceeded")).toContainEqual(
      expect.objectContaining({
        event: "gateway_quota_exceeded",
        sub: "erin",
        scope: "user",
        limit: "requestsPerMinute",
        max: 3,
      }),
    );
    // Another user has a quota of their own.
    expect((await chatAs(idp, perUser, { sub: "frank" })).status).toBe(200);
  });
});

describe("tokens per day, per user, from the upstream's usage", () => {
  it("charges each answer's tokens; once they pass the limit the next call is refused", async () => {
    const first = await chatAs(idp, tokens, { sub: "gina" });
    expect(first.status).toBe(200);
    await loggedTimes(tokens, "gateway_usage_recorded", 1);
    const spent = upstreamTotal(upstream.chatRequests()[0]?.response);
    expect(first.headers.get("ratelimit-limit")).toBe("15");
    expect(spent).toBeLessThan(15);

    const second = await chatAs(idp, tokens, { sub: "gina" });
    expect(second.status).toBe(200);
    expect(second.headers.get("ratelimit-remaining")).toBe(String(15 - spent));
    await loggedTimes(tokens, "gateway_usage_recorded", 2);
    expect(spent + upstreamTotal(upstream.chatRequests()[1]?.response)).toBeGreaterThanOrEqual(15);

    const third = await chatAs(idp, tokens, { sub: "gina" });
    expect(third.status).toBe(429);
    expect(JSON.parse(third.text).error).toMatchObject({
      type: "tokens",
      code: "rate_limit_exceeded",
    });
    // The day ends at 00:00 UTC.
    const untilMidnight = Math.ceil((86_400_000 - (Date.now() % 86_400_000)) / 1000);
    expect(Math.abs(Number(third.headers.get("retry-after")) - untilMidnight)).toBeLessThan(30);
    expect(upstream.chatRequests()).toHaveLength(2);
    expect(await tokens.logged("gateway_usage_recorded")).toContainEqual(
      expect.objectContaining({
        event: "gateway_usage_recorded",
        sub: "gina",
        total_tokens: spent,
      }),
    );
  });

  it("charges a stream whose client did not ask for usage, without showing it the usage", async () => {
    const first = await chatAs(idp, tokens, { sub: "hugo" }, { stream: true });
    expect(first.status).toBe(200);
    expect(first.text).toContain("Fine.");
    expect(first.text).not.toContain("total_tokens");
    const sent = upstream.chatRequests()[0];
    expect(sent?.body).toMatchObject({ stream_options: { include_usage: true } });
    await loggedTimes(tokens, "gateway_usage_recorded", 3);
    const spent = upstreamTotal(sent?.response);
    const second = await chatAs(idp, tokens, { sub: "hugo" }, { stream: true });
    expect(second.headers.get("ratelimit-remaining")).toBe(String(15 - spent));
  });
});

describe("a group's shared limit", () => {
  it("counts every member's calls together, and leaves non-members alone", async () => {
    await inOneMinute();
    const interns = ["/interns", "/staff"];
    expect((await chatAs(idp, group, { sub: "ida", groups: interns })).status).toBe(200);
    expect((await chatAs(idp, group, { sub: "jon", groups: ["/interns"] })).status).toBe(200);
    const refused = await chatAs(idp, group, { sub: "ida", groups: interns });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).error.message).toMatch(
      /^the group \/interns's limit of 2 requests per minute is spent/,
    );
    expect(refused.headers.get("ratelimit-policy")).toBe(
      '2;w=60;comment="group /interns requests"',
    );
    expect((await chatAs(idp, group, { sub: "kim", groups: ["/staff"] })).status).toBe(200);
    expect(await group.logged("gateway_quota_exceeded")).toContainEqual(
      expect.objectContaining({
        event: "gateway_quota_exceeded",
        sub: "ida",
        scope: "group",
        group: "/interns",
      }),
    );
  });
});
