import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { PLUGIN_EVENTS } from "../src/events.js";

describe("docs/log-events.md", () => {
  it("documents every plugin event with its level, in the plugin section, and nothing more", async () => {
    const doc = await readFile(new URL("../../../docs/log-events.md", import.meta.url), "utf8");
    const section = doc.slice(doc.indexOf("## opencode plugin"));
    const rows = new Map(
      [...section.matchAll(/^\| `(oauth2_[a-z0-9_]+)`\s*\| (debug|info|warn|error)\s*\|/gm)].map(
        (m) => [m[1], m[2]],
      ),
    );
    expect(Object.fromEntries(rows)).toEqual(PLUGIN_EVENTS);
  });
});

describe("the plugin entry module", () => {
  it("exports functions only (opencode skips a plugin module with any other export)", async () => {
    // By URL, so the typecheck does not need the build: this is the file opencode loads.
    const entry: Record<string, unknown> = await import(
      new URL("../dist/index.js", import.meta.url).href
    );
    const kinds = Object.values(entry).map((value) => typeof value);
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds)).toEqual(new Set(["function"]));
  });
});
