import { describe, expect, it } from "vitest";
import { formatDuration, formatExpiry } from "../src/cli/human-time.js";
import { colorEnabled, createOutput, formatTable } from "../src/cli/output.js";
import { startProgress } from "../src/cli/progress.js";

const sink = (isTTY: boolean) => {
  const chunks: string[] = [];
  return { chunks, isTTY, write: (text: string) => chunks.push(text) };
};

describe("human time", () => {
  it("says how long until, or since, a token expires", () => {
    const now = 1_700_000_000_000;
    expect(formatExpiry(now + 4 * 60_000 + 10_000, now)).toBe("in 4 min");
    expect(formatExpiry(now - 2 * 3_600_000, now)).toBe("expired 2 h ago");
    expect(formatExpiry(now + 45_000, now)).toBe("in 45 s");
    expect(formatExpiry(undefined, now)).toBe("no expiry given");
    expect(formatDuration(2 * 3_600_000 + 5 * 60_000)).toBe("2 h 5 min");
    expect(formatDuration(30 * 3_600_000)).toBe("30 h");
    expect(formatDuration(14 * 86_400_000)).toBe("14 d");
  });
});

describe("output", () => {
  it("colours only a TTY, and never with NO_COLOR or TERM=dumb", () => {
    expect(colorEnabled(sink(true), {})).toBe(true);
    expect(colorEnabled(sink(false), {})).toBe(false);
    expect(colorEnabled(sink(true), { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled(sink(true), { NO_COLOR: "" })).toBe(true);
    expect(colorEnabled(sink(true), { TERM: "dumb" })).toBe(false);
    const out = createOutput({ stdout: sink(true), stderr: sink(false) }, {});
    expect(out.style.red("x")).toBe("\u001b[31mx\u001b[39m");
    expect(out.errStyle.red("x")).toBe("x");
  });

  it("aligns table columns ignoring colour codes", () => {
    const red = (s: string) => `\u001b[31m${s}\u001b[39m`;
    expect(
      formatTable([
        ["A", "B", "C"],
        [red("long"), "b", "c"],
      ]),
    ).toEqual(["A     B  C", `${red("long")}  b  c`]);
  });

  it("shows progress as a spinner on a TTY and as plain lines elsewhere", () => {
    const tty = sink(true);
    const spinner = startProgress(
      createOutput({ stdout: sink(false), stderr: tty }, {}),
      () => "waiting",
    );
    spinner.stop();
    expect(tty.chunks[0]?.startsWith("\r\u001b[2K")).toBe(true);
    expect(tty.chunks[0]).toMatch(/ waiting$/);
    expect(tty.chunks.at(-1)).toBe("\r\u001b[2K");
    const pipe = sink(false);
    startProgress(createOutput({ stdout: sink(false), stderr: pipe }, {}), () => "waiting").stop();
    expect(pipe.chunks).toEqual(["waiting\n"]);
  });
});
