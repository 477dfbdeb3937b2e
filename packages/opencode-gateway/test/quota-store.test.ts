import { startRedis, type TestRedis } from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryQuotaStore } from "../src/quota/memory-store.js";
import { QuotaStoreUnavailable, redisQuotaStore } from "../src/quota/redis-store.js";
import type { Counter, QuotaStore } from "../src/quota/store.js";

/**
 * The two counter stores behave alike: a take admits until a limit is reached and then refuses
 * without counting, a spent token counter refuses, windows end on the clock's minute or day.
 * The Redis one is atomic across clients (two stores stand for two replicas) and fails fast,
 * with a typed error, while its Redis is down — then works again once it is back.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;
let redis: TestRedis;
const stores: QuotaStore[] = [];
let prefixes = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis.close();
});

/** A store on the test's Redis; stores made with the same `prefix` share counters. */
function onRedis(shared?: string): QuotaStore {
  prefixes += 1;
  const prefix = shared ?? `t${prefixes}:`;
  const store = redisQuotaStore({ url: redis.url, prefix, timeoutMs: 2000 });
  stores.push(store);
  return store;
}

const requests = (key: string, limit: number): Counter => ({
  key,
  limit,
  windowMs: MINUTE,
  cost: 1,
});
const tokens = (key: string, limit: number): Counter => ({ key, limit, windowMs: DAY, cost: 0 });

describe.each([
  ["memory", () => memoryQuotaStore({ maxKeys: 100 })],
  ["redis", () => onRedis()],
])("the %s store", (_name, make) => {
  it("admits up to the limit, then refuses without counting the refused calls", async () => {
    const store = make();
    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push(await store.take([requests("u:a:rpm", 3)]));
    expect(answers.map((a) => a.admitted)).toEqual([true, true, true, false, false]);
    expect(answers.map((a) => a.states[0]?.used)).toEqual([1, 2, 3, 3, 3]);
    for (const answer of answers) {
      expect(answer.states[0]?.resetMs).toBeGreaterThan(0);
      expect(answer.states[0]?.resetMs).toBeLessThanOrEqual(MINUTE);
    }
  });

  it("refuses when any one counter is spent, and then counts none of them", async () => {
    const store = make();
    expect((await store.take([requests("g:x:rpm", 1)])).admitted).toBe(true);
    const both = await store.take([requests("u:b:rpm", 10), requests("g:x:rpm", 1)]);
    expect(both.admitted).toBe(false);
    expect(both.states.map((s) => s.used)).toEqual([0, 1]);
  });

  it("a token counter refuses once the tokens added reach its limit", async () => {
    const store = make();
    const counter = tokens("u:c:tpd", 100);
    expect((await store.take([counter])).admitted).toBe(true);
    await store.add([{ key: counter.key, amount: 99, windowMs: DAY }]);
    expect((await store.take([counter])).admitted).toBe(true);
    await store.add([{ key: counter.key, amount: 30, windowMs: DAY }]);
    const spent = await store.take([counter]);
    expect(spent).toMatchObject({ admitted: false, states: [{ used: 129 }] });
    // The day ends at 00:00 UTC.
    const untilMidnight = DAY - (Date.now() % DAY);
    expect(Math.abs((spent.states[0]?.resetMs ?? 0) - untilMidnight)).toBeLessThan(5_000);
  });
});

describe("the memory store", () => {
  it("starts a new window on the minute, and keeps at most maxKeys counters", async () => {
    let now = Date.UTC(2026, 10, 30, 12, 0, 59, 500);
    const store = memoryQuotaStore({ maxKeys: 2, now: () => now });
    expect((await store.take([requests("u:a:rpm", 1)])).states[0]?.resetMs).toBe(500);
    expect((await store.take([requests("u:a:rpm", 1)])).admitted).toBe(false);
    now += 500;
    expect((await store.take([requests("u:a:rpm", 1)])).admitted).toBe(true);
    await store.take([requests("u:b:rpm", 1)]);
    await store.take([requests("u:c:rpm", 1)]);
    // u:a was the least recently used of three: dropped, so it starts over.
    expect((await store.take([requests("u:a:rpm", 1)])).admitted).toBe(true);
  });
});

describe("the redis store", () => {
  it("is atomic across replicas: of 40 concurrent calls on two stores, exactly the limit pass", async () => {
    const [one, two] = [onRedis("shared:"), onRedis("shared:")] as [QuotaStore, QuotaStore];
    const calls = Array.from({ length: 40 }, (_, i) =>
      (i % 2 === 0 ? one : two).take([requests("u:d:rpm", 15)]),
    );
    const answers = await Promise.all(calls);
    expect(answers.filter((a) => a.admitted)).toHaveLength(15);
    expect((await two.take([requests("u:d:rpm", 15)])).states[0]?.used).toBe(15);
  });

  it("fails fast with a typed error while Redis is down, and works again once it is back", async () => {
    const store = onRedis();
    expect((await store.take([requests("u:e:rpm", 5)])).admitted).toBe(true);
    await redis.kill();
    const failure = await store.take([requests("u:e:rpm", 5)]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(QuotaStoreUnavailable);
    expect(String((failure as Error).message)).toMatch(
      /ECONNREFUSED|Connection is closed|reconnecting|connect/i,
    );
    await redis.restart();
    await expect
      .poll(
        async () => (await store.take([requests("u:e:rpm", 5)]).catch(() => undefined))?.admitted,
        {
          timeout: 10_000,
          interval: 100,
        },
      )
      .toBe(true);
    // Redis came back empty (no persistence): the window started over.
    expect((await store.take([requests("u:e:rpm", 5)])).states[0]?.used).toBe(2);
  });

  it("started while Redis is down, it fails fast and connects once Redis is up", async () => {
    await redis.kill();
    const store = onRedis();
    await expect(store.take([requests("u:f:rpm", 5)])).rejects.toBeInstanceOf(
      QuotaStoreUnavailable,
    );
    await redis.restart();
    await expect
      .poll(
        async () => (await store.take([requests("u:f:rpm", 5)]).catch(() => undefined))?.admitted,
        { timeout: 10_000, interval: 100 },
      )
      .toBe(true);
  });
});
