import { readdir, readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/index.js";

/** Every gateway config in the IdP setup guides is one the gateway starts with. */

const DIR = new URL("../../../docs/idps/", import.meta.url);

describe("docs/idps gateway examples", () => {
  it("validate with the gateway's own config parser", async () => {
    const files = (await readdir(DIR)).filter((f) => f.endsWith(".md")).sort();
    const checked: string[] = [];
    const failures: string[] = [];
    for (const file of files) {
      const text = await readFile(new URL(file, DIR), "utf8");
      for (const match of text.matchAll(/^```json\n([\s\S]*?)^```/gm)) {
        const example = JSON.parse(match[1] as string) as Record<string, unknown>;
        if (typeof example.publicUrl !== "string") continue;
        checked.push(file);
        try {
          parseConfig(example, { source: file });
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    }
    expect(failures).toEqual([]);
    // Google has none: the gateway cannot accept its tokens (the page says why).
    expect(checked.sort()).toEqual([
      "auth0.md",
      "authentik.md",
      "entra-id.md",
      "generic.md",
      "keycloak.md",
      "okta.md",
      "openid-realm.md",
    ]);
  });
});
