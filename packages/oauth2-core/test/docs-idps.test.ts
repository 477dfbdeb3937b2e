import { readdir, readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parseWithMessages } from "../src/config/messages.js";
import { ProviderOAuth2Schema } from "../src/config/schema.js";

/**
 * The IdP setup guides are copied into real configs: every `oauth2` block in their JSON examples
 * must be one the plugin accepts (the schema is strict, so a misspelt or invented field fails).
 */

const DIR = new URL("../../../docs/idps/", import.meta.url);

type Json = Record<string, unknown>;

async function jsonBlocks(): Promise<{ file: string; block: string }[]> {
  const files = (await readdir(DIR)).filter((f) => f.endsWith(".md")).sort();
  const blocks: { file: string; block: string }[] = [];
  for (const file of files) {
    const text = await readFile(new URL(file, DIR), "utf8");
    for (const match of text.matchAll(/^```json\n([\s\S]*?)^```/gm)) {
      blocks.push({ file, block: match[1] as string });
    }
  }
  return blocks;
}

/** The oauth2 blocks of one example: a gateway config's (issuer from the top), an opencode config's, or a bare one. */
function oauth2BlocksOf(example: Json): Json[] {
  if (typeof example.publicUrl === "string") {
    return [{ ...(example.oauth2 as Json), issuer: example.issuer }];
  }
  if (example.provider) {
    return Object.values(example.provider as Record<string, Json>).map(
      (p) => (p.options as Json).oauth2 as Json,
    );
  }
  return [example];
}

describe("docs/idps", () => {
  it("has JSON examples that parse, and every oauth2 block in them validates", async () => {
    const blocks = await jsonBlocks();
    const perFile = new Map<string, number>();
    const failures: string[] = [];
    for (const { file, block } of blocks) {
      let example: Json;
      try {
        example = JSON.parse(block) as Json;
      } catch (err) {
        failures.push(`${file}: a json block does not parse: ${(err as Error).message}`);
        continue;
      }
      for (const oauth2 of oauth2BlocksOf(example)) {
        perFile.set(file, (perFile.get(file) ?? 0) + 1);
        const result = ProviderOAuth2Schema.safeParse(oauth2, parseWithMessages);
        if (!result.success) {
          const issues = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
          failures.push(`${file}: ${JSON.stringify(oauth2)} → ${issues.join("; ")}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // Every IdP page shows at least two configs (a user's, and a CI job's or a gateway's).
    const pages = [...perFile.keys()];
    expect(pages).toEqual(
      expect.arrayContaining([
        "auth0.md",
        "authentik.md",
        "entra-id.md",
        "generic.md",
        "google.md",
        "keycloak.md",
        "okta.md",
        "openid-realm.md",
      ]),
    );
    for (const page of pages) expect(perFile.get(page), page).toBeGreaterThanOrEqual(2);
  });
});
