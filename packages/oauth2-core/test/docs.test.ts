import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CORE_EVENTS } from "../src/log.js";

describe("docs/log-events.md", () => {
  it("documents every core event with its level, and no event the code does not have", async () => {
    const doc = await readFile(new URL("../../../docs/log-events.md", import.meta.url), "utf8");
    const rows = new Map(
      [...doc.matchAll(/^\| `(oauth2_[a-z0-9_]+)`\s*\| (debug|info|warn|error)\s*\|/gm)].map(
        (m) => [m[1], m[2]],
      ),
    );
    for (const [event, level] of Object.entries(CORE_EVENTS)) {
      expect(rows.get(event), event).toBe(level);
    }
    const section = doc.slice(doc.indexOf("## Token engine"), doc.indexOf("## opencode plugin"));
    const documented = [...section.matchAll(/^\| `(oauth2_[a-z0-9_]+)`/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(CORE_EVENTS).sort());
  });
});
