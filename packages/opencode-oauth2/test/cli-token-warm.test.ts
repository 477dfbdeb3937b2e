// The warm path of `token <provider>` (see @vymalo/oauth2-core/warm): a fresh token is printed
// without parsing the config only while the config is exactly the one a full run validated.
// Every change, an invalid config, or a token inside the expiry skew takes the full path.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { headlessClient, headlessOAuth2 } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

async function setup(extra: Record<string, unknown> = {}) {
  h = await cliHarness({ clients: [headlessClient()], accessTokenTtl: 600 });
  await writeProvider(extra);
}

const writeProvider = (extra: Record<string, unknown>) =>
  h.writeGlobalConfig(providerConfig("corp", { ...headlessOAuth2(h.idp.issuer), ...extra }));

async function token(args: string[] = []) {
  const result = await h.run(["token", "corp", ...args]);
  return { ...result, grants: h.idp.tokenRequests.length };
}

describe("token's warm path", () => {
  it("serves the cached token while the config is unchanged; the stamp holds no token", async () => {
    await setup();
    const cold = await token();
    expect(cold).toMatchObject({ code: 0, stderr: "", grants: 1 });
    const warm = await token();
    expect(warm).toMatchObject({ code: 0, stderr: "", stdout: cold.stdout, grants: 1 });
    expect(await token(["--format", "raw"])).toMatchObject({ stdout: cold.stdout, grants: 1 });
    const stamp = await readFile(
      join(h.cacheHome, "opencode-oauth2", "tokens", "corp.warm"),
      "utf8",
    );
    expect(stamp).not.toContain(cold.stdout.trim());
    expect(JSON.parse(stamp)).toMatchObject({ version: 1, skewMs: 60_000 });
  });

  it("a changed config goes the full way: a token for other scopes is never served", async () => {
    await setup();
    const first = await token();
    expect(first.grants).toBe(1);
    await writeProvider({ scopes: "openid profile" });
    const changed = await token();
    expect(changed).toMatchObject({ code: 0, grants: 2 });
    expect(changed.stdout).not.toBe(first.stdout);
    expect((await h.idp.verifyAccessToken(changed.stdout.trim())).scope).toMatch(/profile/);
    // …and the new config is warm in turn.
    expect(await token()).toMatchObject({ stdout: changed.stdout, grants: 2 });
  });

  it("an invalid config is reported, not bypassed", async () => {
    await setup();
    expect((await token()).code).toBe(0);
    await writeProvider({ clientID: "typo" });
    const invalid = await token();
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toBe("");
    expect(invalid.stderr).toMatch(/clientID/);
  });

  it("a token inside the expiry skew is renewed, not served", async () => {
    // A skew longer than the token's life: every token is due for renewal at once.
    await setup({ tokenExpirySkewMs: 3_600_000 });
    const first = await token();
    const second = await token();
    expect(first).toMatchObject({ code: 0, grants: 1 });
    expect(second).toMatchObject({ code: 0, grants: 2 });
    expect(second.stdout).not.toBe(first.stdout);
  });
});
