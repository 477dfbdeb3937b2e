import { describe, expect, it } from "vitest";
import { cachedIntrospection } from "../src/introspection-cache.js";
import { Lru } from "../src/lru.js";
import type { Claims } from "../src/verify-token.js";

/**
 * How long introspection answers are reused, on a controlled clock: the end-to-end tests
 * (outbound-calls.test.ts) cannot wait for a minute to pass. The IdP is a function here that
 * counts its calls and answers what the test says.
 */

const T0 = Date.parse("2030-01-01T00:00:00Z");

function setup(
  answer: (token: string) => Claims,
  options = { cacheSec: 60, negativeCacheSec: 30 },
) {
  let clock = T0;
  const calls: string[] = [];
  const introspect = cachedIntrospection(
    async (token) => {
      calls.push(token);
      return answer(token);
    },
    { ...options, maxEntries: 3, now: () => clock },
  );
  return { introspect, calls, advance: (sec: number) => (clock += sec * 1000) };
}

describe("remembered introspection answers", () => {
  it("an active answer is reused for cacheSec, then asked again", async () => {
    const { introspect, calls, advance } = setup(() => ({ active: true, exp: T0 / 1000 + 3600 }));
    await introspect("a");
    advance(59);
    await introspect("a");
    expect(calls).toEqual(["a"]);
    advance(2);
    await introspect("a");
    expect(calls).toEqual(["a", "a"]);
  });

  it("an active answer is never reused past the token's exp", async () => {
    const { introspect, calls, advance } = setup(() => ({ active: true, exp: T0 / 1000 + 10 }));
    await introspect("a");
    advance(9);
    await introspect("a");
    advance(2);
    await introspect("a");
    expect(calls).toEqual(["a", "a"]);
  });

  it("an inactive answer is reused for negativeCacheSec", async () => {
    const { introspect, calls, advance } = setup(() => ({ active: false }));
    await introspect("junk");
    advance(29);
    await introspect("junk");
    expect(calls).toHaveLength(1);
    advance(2);
    await introspect("junk");
    expect(calls).toHaveLength(2);
  });

  it("cacheSec 0 asks every time; a failure is not remembered", async () => {
    let fail = true;
    const { introspect, calls } = setup(
      () => {
        if (fail) throw new Error("HTTP 500");
        return { active: true };
      },
      { cacheSec: 0, negativeCacheSec: 30 },
    );
    await expect(introspect("a")).rejects.toThrow("HTTP 500");
    fail = false;
    await introspect("a");
    await introspect("a");
    expect(calls).toHaveLength(3);
  });

  it("holds at most maxEntries tokens, dropping the least recently used", async () => {
    const { introspect, calls } = setup(() => ({ active: false }));
    for (const token of ["a", "b", "c", "a", "d", "a", "b"]) await introspect(token);
    // "b" was the least recently used when "d" came in, so it was asked again.
    expect(calls).toEqual(["a", "b", "c", "d", "b"]);
  });
});

describe("Lru", () => {
  it("refuses a size that is not a positive integer", () => {
    expect(() => new Lru(0)).toThrow(RangeError);
  });

  /** Which of `keys` a full cache still holds (reading them reorders it: check once). */
  const held = (lru: Lru<string, number>, keys: string[]) =>
    keys.filter((key) => lru.get(key) !== undefined);

  it("drops the least recently read or written entry, wherever it is in the order", () => {
    const lru = new Lru<string, number>(3);
    lru.set("a", 1);
    lru.set("b", 2);
    lru.set("c", 3);
    expect(lru.get("b")).toBe(2); // the middle one becomes the newest: a, c, b
    lru.set("a", 10); // the oldest is written again: c, b, a
    lru.set("d", 4); // c goes
    expect(lru.size).toBe(3);
    expect(held(lru, ["a", "b", "c", "d"])).toEqual(["a", "b", "d"]);
    expect(lru.get("a")).toBe(10);
  });

  it("keeps its order whole when the newest, the oldest or a middle entry is deleted", () => {
    for (const gone of ["a", "b", "c"]) {
      const lru = new Lru<string, number>(3);
      lru.set("a", 1);
      lru.set("b", 2);
      lru.set("c", 3);
      lru.delete(gone);
      lru.set("x", 9); // room for it: nothing goes
      const kept = ["a", "b", "c"].filter((key) => key !== gone);
      lru.set("y", 9); // the oldest remaining goes
      expect(lru.size).toBe(3);
      expect(held(lru, [...kept, "x", "y"])).toEqual([kept[1], "x", "y"]);
    }
  });

  it("with one entry, each new key replaces the last", () => {
    const lru = new Lru<string, number>(1);
    lru.set("a", 1);
    lru.get("a");
    lru.set("b", 2);
    expect(lru.get("a")).toBeUndefined();
    expect(lru.get("b")).toBe(2);
    lru.delete("b");
    expect(lru.size).toBe(0);
    lru.set("c", 3);
    expect(lru.get("c")).toBe(3);
  });
});
