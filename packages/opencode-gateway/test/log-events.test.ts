import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { GATEWAY_EVENTS, jsonLogger } from "../src/index.js";

/**
 * The gateway's log events are public interface: every one is in the typed catalogue and has
 * its row (with the same level) in the gateway section of docs/log-events.md, and the logger
 * is the core's redacting one.
 */

const DOC = new URL("../../../docs/log-events.md", import.meta.url);

describe("docs/log-events.md, gateway section", () => {
  it("documents every gateway event with its level, and no event the code does not have", async () => {
    const doc = await readFile(DOC, "utf8");
    const start = doc.indexOf("## Gateway");
    expect(start).toBeGreaterThan(-1);
    const next = doc.indexOf("\n## ", start + 1);
    const section = doc.slice(start, next === -1 ? undefined : next);
    const rows = new Map(
      [...section.matchAll(/^\| `(gateway_[a-z0-9_]+)`\s*\| (debug|info|warn|error)\s*\|/gm)].map(
        (m) => [m[1], m[2]],
      ),
    );
    expect(Object.fromEntries(rows)).toEqual(GATEWAY_EVENTS);
  });

  it("has the shutdown events the bin emits", () => {
    expect(GATEWAY_EVENTS).toMatchObject({
      gateway_shutdown_forced: "warn",
      gateway_shutdown_failed: "error",
    });
  });
});

describe("the gateway logger", () => {
  it("writes one timestamped JSON line per event, at the catalogue's level, redacted", () => {
    const lines: string[] = [];
    const logger = jsonLogger("debug", (line) => lines.push(line));
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    logger.emit("gateway_auth_rejected", { reason: "expired", authorization: `Bearer ${jwt}` });
    logger.emit("gateway_upstream_unreachable", { detail: jwt });
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({
      level: "info",
      event: "gateway_auth_rejected",
      reason: "expired",
    });
    expect(Number.isNaN(Date.parse(String(first?.time)))).toBe(false);
    expect(first).not.toHaveProperty("authorization");
    expect(second).toMatchObject({ level: "error", detail: "[redacted]" });
    expect(lines.join("\n")).not.toContain(jwt);
  });

  it("drops events below its level", () => {
    const lines: string[] = [];
    const logger = jsonLogger("warn", (line) => lines.push(line));
    logger.emit("gateway_request", { status: 200 });
    logger.emit("gateway_auth_unavailable", { reason: "keys_unavailable" });
    expect(lines.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual([
      "gateway_auth_unavailable",
    ]);
  });

  it("only takes events from the catalogue (checked by tsc)", () => {
    const logger = jsonLogger("debug", () => {});
    // @ts-expect-error an event that is not in GATEWAY_EVENTS does not compile
    logger.emit("request");
    expect(Object.keys(GATEWAY_EVENTS).every((e) => e.startsWith("gateway_"))).toBe(true);
  });
});
