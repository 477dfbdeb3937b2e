import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

interface Row {
  provider: string;
  state: string;
  clientId?: string;
  scopes?: string[];
  issuer?: string;
  issues?: string[];
}

async function statusRows(args: string[] = [], options = {}): Promise<Row[]> {
  const result = await h.run(["status", "--json", ...args], options);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

describe("config files", () => {
  it("reads a JSONC global config with comments, trailing commas and {env:…}", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    await h.writeGlobalConfig(
      `// global opencode config
{
  /* the corporate gateway */
  "provider": {
    "corp": {
      "options": {
        "oauth2": {
          "issuer": "${h.idp.issuer}", // discovery at /.well-known
          "clientId": "{env:CORP_CLIENT_ID}",
          "scopes": ["openid", "offline_access",],
        },
      },
    },
  },
}
`,
      "opencode.jsonc",
    );
    const [row] = await statusRows([], { env: { CORP_CLIENT_ID: "cli" } });
    expect(row).toMatchObject({
      provider: "corp",
      state: "logged_out",
      clientId: "cli",
      issuer: h.idp.issuer,
      scopes: ["openid", "offline_access"],
    });
  });

  it("uses --config FILE, which wins over every other file", async () => {
    h = await cliHarness();
    const file = await h.writeFile(
      "elsewhere/team.json",
      providerConfig("corp", {
        issuer: "https://login.example.com",
        clientId: "{file:./client-id}",
      }),
    );
    // {file:…} is relative to the config file, and its content is trimmed.
    await h.writeFile("elsewhere/client-id", "from-flag\n");
    expect(await statusRows()).toEqual([]);
    expect(await statusRows(["--config", file])).toEqual([
      expect.objectContaining({ provider: "corp", clientId: "from-flag" }),
    ]);
    // The flag may come before the command, too.
    const before = await h.run(["--config", file, "status", "--json"]);
    expect(JSON.parse(before.stdout)).toHaveLength(1);

    const missing = await h.run(["status", "--config", join(h.root, "nope.json")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.json: cannot be read \(ENOENT\)/);
  });

  it("merges global < $OPENCODE_CONFIG < project (git root down to cwd) < --config, deeply", async () => {
    h = await cliHarness();
    const oauth2 = (extra: Record<string, unknown>) => providerConfig("corp", extra);
    await h.writeGlobalConfig({
      ...oauth2({ issuer: "https://login.example.com", clientId: "global", scopes: "openid" }),
      plugin: [
        [
          "@vymalo/opencode-oauth2",
          { providers: { other: { issuer: "https://o.example.com", clientId: "o" } } },
        ],
      ],
    });
    const envFile = await h.writeFile(
      "env.json",
      oauth2({ clientId: "from-env", scopes: "openid env" }),
    );
    await mkdir(join(h.cwd, ".git"));
    await h.writeFile("project/opencode.json", oauth2({ scopes: "openid root" }));
    await h.writeFile(
      "project/sub/opencode.jsonc",
      `// closer to cwd\n${JSON.stringify(oauth2({ scopes: "openid sub" }))}`,
    );
    // Above the git root: not read.
    await h.writeFile("opencode.json", oauth2({ clientId: "outside-repo" }));
    const sub = join(h.cwd, "sub");
    const env = { OPENCODE_CONFIG: envFile };

    const rows = await statusRows([], { env, cwd: sub });
    expect(rows.find((r) => r.provider === "corp")).toMatchObject({
      issuer: "https://login.example.com", // from global, deep-merged
      clientId: "from-env", // $OPENCODE_CONFIG over global
      // opencode reads every opencode.jsonc (root → cwd) before every opencode.json.
      scopes: ["openid", "root"],
    });
    expect(rows.find((r) => r.provider === "other")).toMatchObject({ clientId: "o" });

    const flag = await h.writeFile("flag.json", oauth2({ scopes: "openid flag" }));
    const withFlag = await statusRows(["--config", flag], { env, cwd: sub });
    expect(withFlag.find((r) => r.provider === "corp")?.scopes).toEqual(["openid", "flag"]);
  });

  it("fails with the file, line and column of a JSON error, and lists invalid oauth2 blocks", async () => {
    h = await cliHarness();
    const broken = await h.writeGlobalConfig('{ "provider": { "corp": } }');
    const result = await h.run(["status"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${broken}: line 1, column 25: ValueExpected`);

    await h.writeGlobalConfig(
      providerConfig("corp", { issuer: "http://idp.example.com", clientid: "x" }),
    );
    const token = await h.run(["token", "corp"]);
    expect(token.code).toBe(1);
    expect(token.stdout).toBe("");
    expect(token.stderr).toMatch(
      /provider "corp": provider\.corp\.options\.oauth2\.issuer: expected an https:\/\/ URL/,
    );
    expect(token.stderr).toMatch(/unknown field "clientid"/);
    expect(token.stderr).toMatch(/opencode-oauth2 doctor corp/);
    const [row] = await statusRows();
    expect(row).toMatchObject({ provider: "corp", state: "invalid_config" });
    expect(row?.issues?.length).toBeGreaterThan(1);
  });
});
