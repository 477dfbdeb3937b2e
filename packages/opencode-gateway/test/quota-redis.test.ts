import { startFakeLlm, startRedis, type TestRedis } from "@vymalo/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll, forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import { chatAs, inOneMinute, loggedTimes, upstreamTotal } from "./fixtures/quota.js";
import type { Upstream } from "./fixtures/upstream.js";

/**
 * Two replicas of the built gateway behind an imaginary load balancer, sharing their quota
 * counters in a real redis-server: what one replica counts, the other refuses. A third
 * instance on the same Redis fails closed. Then Redis dies: the fail-open replica keeps
 * serving and the fail-closed one answers 503, each logging it once, and both count again once
 * Redis is back.
 */

let idp: IssuerStub;
let upstream: Upstream;
let redis: TestRedis;
let inspect: Redis;
let one: BuiltGateway;
let two: BuiltGateway;
let closed: BuiltGateway;

const TEAM = ["/team"];

beforeAll(async () => {
  [idp, upstream, redis] = await Promise.all([
    startIssuerStub(),
    startFakeLlm({ models: ["team/coder"], answer: "Fine." }),
    startRedis(),
  ]);
  inspect = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  inspect.on("error", () => {});
  const replica = (failMode: "open" | "closed") =>
    startBuiltGateway(
      testConfig(
        idp.issuer,
        { baseURL: upstream.baseURL },
        {
          quota: {
            user: { tokensPerDay: 15 },
            groups: { "/team": { requestsPerMinute: 2 } },
            redis: redis.url,
            failMode,
            // Generous: the suite runs many files at once on a small machine.
            redisTimeoutMs: 2000,
          },
        },
      ),
    );
  [one, two, closed] = await Promise.all([replica("open"), replica("open"), replica("closed")]);
});
closeAfterAll(() => ({ gateways: [one, two, closed], upstream, idp }));
afterAll(async () => {
  inspect.disconnect();
  await redis.close();
});
forgetUpstreamRequests(() => upstream);

describe("two replicas sharing Redis", () => {
  it("a group's requests counted on one replica are refused on the other", async () => {
    await inOneMinute();
    const first = await chatAs(idp, one, { sub: "lena", groups: TEAM });
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-remaining")).toBe("1");
    const second = await chatAs(idp, two, { sub: "max", groups: TEAM });
    expect(second.status).toBe(200);
    expect(second.headers.get("ratelimit-remaining")).toBe("0");
    const refused = await chatAs(idp, two, { sub: "lena", groups: TEAM });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await chatAs(idp, one, { sub: "max", groups: TEAM })).status).toBe(429);
    expect(upstream.chatRequests()).toHaveLength(2);

    // The counter is in Redis, under the prefix, and expires with its minute.
    await inspect.connect();
    const key = "opencode-gateway:quota:g:/team:rpm";
    expect(await inspect.get(key)).toBe("2");
    const ttl = await inspect.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("tokens a user spent on one replica count on the other", async () => {
    expect((await chatAs(idp, one, { sub: "nora" })).status).toBe(200);
    await loggedTimes(one, "gateway_usage_recorded", 1);
    const spentOnOne = upstreamTotal(upstream.chatRequests()[0]?.response);
    // Charged once the answer is done, a moment after the client has it.
    await expect
      .poll(() => inspect.get("opencode-gateway:quota:u:nora:tpd"))
      .toBe(String(spentOnOne));

    const onTwo = await chatAs(idp, two, { sub: "nora" });
    expect(onTwo.status).toBe(200);
    expect(onTwo.headers.get("ratelimit-remaining")).toBe(String(15 - spentOnOne));
    const spentOnTwo = upstreamTotal(upstream.chatRequests()[1]?.response);
    await expect
      .poll(() => inspect.get("opencode-gateway:quota:u:nora:tpd"))
      .toBe(String(spentOnOne + spentOnTwo));
    const refused = await chatAs(idp, one, { sub: "nora" });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).error.type).toBe("tokens");
  });

  it("Redis down: fail-open serves, fail-closed answers 503; each logs once, then both recover", async () => {
    await redis.kill();
    const served = await chatAs(idp, one, { sub: "omar" });
    expect(served.status).toBe(200);
    expect(served.headers.get("ratelimit-limit")).toBeNull();
    expect((await chatAs(idp, one, { sub: "omar" })).status).toBe(200);

    const refused = await chatAs(idp, closed, { sub: "omar" });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(JSON.parse(refused.text).error).toMatchObject({
      code: "quota_unavailable",
      type: "service_unavailable",
    });
    expect(upstream.chatRequests()).toHaveLength(2);

    const outages = (gateway: BuiltGateway) => gateway.logged("gateway_quota_store_unavailable");
    expect(await outages(one)).toEqual([
      expect.objectContaining({
        level: "warn",
        store: "redis",
        operation: "take",
        failMode: "open",
        detail: expect.stringMatching(/ECONNREFUSED|closed|reconnecting|connect/i),
      }),
    ]);
    expect(await outages(closed)).toEqual([
      expect.objectContaining({ store: "redis", operation: "take", failMode: "closed" }),
    ]);
    expect(JSON.stringify(await outages(one))).not.toContain("Bearer");

    await redis.restart();
    await expect
      .poll(async () => (await chatAs(idp, closed, { sub: "pia" })).status, {
        timeout: 15_000,
        interval: 250,
      })
      .toBe(200);
    await loggedTimes(closed, "gateway_quota_store_recovered", 1);
    // Each replica reconnects on its own schedule; the open one counts again once it has.
    await expect
      .poll(async () => (await chatAs(idp, one, { sub: "pia" })).headers.get("ratelimit-limit"), {
        timeout: 15_000,
        interval: 250,
      })
      .toBe("15");
    await loggedTimes(one, "gateway_quota_store_recovered", 1);
  });
});
