import { readFile } from "node:fs/promises";
import { startChild } from "@vymalo/testkit";
import { describe, expect, it } from "vitest";
import { assertBuilt, CLI } from "./cli/harness.js";

// The CLI is a bundle: its version is inlined from package.json at build time, not read from
// a path relative to wherever the bundler put the code.
describe("opencode-oauth2 --version", () => {
  it("prints the version in its package.json", async () => {
    assertBuilt();
    const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
    const result = await startChild(process.execPath, [CLI, "--version"], {
      env: { PATH: process.env.PATH },
    }).done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${pkg.version}\n`);
  });
});
