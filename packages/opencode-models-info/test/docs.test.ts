import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import * as entry from "../src/index.js";
import { MODELS_INFO_EVENTS } from "../src/lib.js";

const DOC = new URL("../../../docs/log-events.md", import.meta.url);

describe("public surface", () => {
  it("the package entry exports functions only (opencode skips a module with anything else)", () => {
    const exports = Object.entries(entry);
    expect(exports.map(([name]) => name)).toEqual(["ModelsInfoPlugin"]);
    for (const [, value] of exports) expect(typeof value).toBe("function");
  });

  it("docs/log-events.md documents every models-info event with its level, and no other", async () => {
    const text = await readFile(DOC, "utf8");
    const rows = new Map<string, string>();
    for (const match of text.matchAll(/^\|\s*`(models_info_\w+)`\s*\|\s*(\w+)\s*\|/gm)) {
      rows.set(match[1] as string, match[2] as string);
    }
    expect(Object.fromEntries(rows)).toEqual(MODELS_INFO_EVENTS);
  });
});
