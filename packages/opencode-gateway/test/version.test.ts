import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { runGatewayBin } from "./fixtures/built-gateway.js";

// The bin is a bundle whose shared code sits in dist/chunks/: a version read from a path
// relative to the module (../package.json) found no file there and crashed `--version`.
describe("opencode-gateway --version", () => {
  it("prints the version in its package.json", async () => {
    const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
    const result = await runGatewayBin(["--version"]).done;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${pkg.version}\n`);
  });
});
