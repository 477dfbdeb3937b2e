import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { testConfig } from "./fixtures/gateway.js";

/**
 * opencode installs the plugins a manifest names with npm, and runs its login command with npx:
 * a version that was never published breaks every user's login. The built gateway names the
 * versions of the plugin packages it was built with (each released on its own), not its own.
 */

/** The version in a sibling package's package.json, read here independently of the build. */
async function workspaceVersion(dir: string): Promise<string> {
  const file = new URL(`../../${dir}/package.json`, import.meta.url);
  return (JSON.parse(await readFile(file, "utf8")) as { version: string }).version;
}

let gateway: BuiltGateway;

beforeAll(async () => {
  gateway = await startBuiltGateway(
    testConfig("https://login.example.test/realms/corp", { demo: true }, { providerId: "corp" }),
  );
});
afterAll(() => gateway?.close());

describe("GET /.well-known/opencode from the built gateway", () => {
  it("names the published versions of the plugins and of the login command", async () => {
    const response = await fetch(`${gateway.url}/.well-known/opencode`);
    expect(response.status).toBe(200);
    const manifest = (await response.json()) as {
      auth: { command: string[] };
      config: { plugin: string[] };
    };
    const oauth2 = `@vymalo/opencode-oauth2@${await workspaceVersion("opencode-oauth2")}`;
    const modelsInfo = `@vymalo/opencode-models-info@${await workspaceVersion("opencode-models-info")}`;

    expect(manifest.config.plugin).toEqual([oauth2, modelsInfo]);
    expect(manifest.auth.command.slice(0, 3)).toEqual(["npx", "-y", oauth2]);
  });
});
