import { describe, expect, it } from "vitest";
import {
  type CoreEvent,
  createLogger,
  fingerprint,
  type Logger,
  type LogRecord,
} from "../src/log.js";
import { openerCommand } from "../src/loopback/browser.js";

describe("logger", () => {
  it("stamps the catalogue level and drops records below the threshold", () => {
    const records: LogRecord[] = [];
    const logger = createLogger({ sink: (r) => records.push(r), level: "info" });
    logger.emit("oauth2_token_cache_hit", { provider: "a" });
    logger.emit("oauth2_login_required", { provider: "a", command: "x" });
    expect(records).toEqual([
      { level: "warn", event: "oauth2_login_required", provider: "a", command: "x" },
    ]);
  });

  it("never lets a secret-named field or a token-shaped value through", () => {
    const records: LogRecord[] = [];
    const logger = createLogger({ sink: (r) => records.push(r) });
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl";
    logger.emit("oauth2_login_succeeded", {
      provider: "a",
      accessToken: "opaque",
      refresh_token: "r",
      code_verifier: "v",
      nested: {
        client_secret: "s",
        note: jwt,
        path: "/home/user/.cache/opencode-oauth2/tokens/corp.json",
      },
      fingerprint: fingerprint(jwt),
    });
    const text = JSON.stringify(records);
    for (const secret of ["opaque", '"r"', '"v"', '"s"', jwt]) expect(text).not.toContain(secret);
    expect(records[0]?.nested).toEqual({
      note: "[redacted]",
      path: "/home/user/.cache/opencode-oauth2/tokens/corp.json",
    });
    expect(records[0]?.fingerprint).toMatch(/^sha256:[0-9a-f]{8}$/);
  });

  it("takes the events of its catalogues and no other name (checked by tsc)", () => {
    const records: LogRecord[] = [];
    const logger = createLogger({
      sink: (r) => records.push(r),
      level: "debug",
      events: { adapter_thing_happened: "warn" },
    });
    logger.emit("adapter_thing_happened", { provider: "a" });
    logger.emit("oauth2_token_cache_hit", { provider: "a" });
    // @ts-expect-error an event in neither catalogue does not compile
    logger.emit("adapter_thing_hapened");
    // A logger that knows more events stands in for one that knows the core's.
    const core: Logger<CoreEvent> = logger;
    core.emit("oauth2_logout");
    // @ts-expect-error one that knows only the core's cannot stand in for the adapter's
    const adapter: Logger<CoreEvent | "adapter_thing_happened"> = createLogger({ level: "debug" });
    adapter.emit("oauth2_logout");
    // What tsc refused above, from an untyped caller, is logged as an error, not at a guessed level.
    expect(records).toEqual([
      { level: "warn", event: "adapter_thing_happened", provider: "a" },
      { level: "debug", event: "oauth2_token_cache_hit", provider: "a" },
      { level: "error", event: "adapter_thing_hapened" },
      { level: "info", event: "oauth2_logout" },
    ]);
  });
});

describe("browser opener", () => {
  const url = "https://idp.example.com/auth?x=1";
  it("honours $BROWSER, with or without a %s placeholder", () => {
    expect(openerCommand(url, { BROWSER: "/usr/bin/firefox" }, "linux")).toEqual({
      command: "/usr/bin/firefox",
      args: [url],
    });
    expect(openerCommand(url, { BROWSER: "w3m -o x %s:lynx" }, "linux")).toEqual({
      command: "w3m",
      args: ["-o", "x", url],
    });
  });
  it("falls back to the platform opener", () => {
    expect(openerCommand(url, {}, "linux").command).toBe("xdg-open");
    expect(openerCommand(url, {}, "darwin").command).toBe("open");
    expect(openerCommand(url, {}, "win32").command).toBe("rundll32");
  });
});
