import { ProviderOAuth2Schema, WellKnownManifestSchema } from "@vymalo/oauth2-core";
import { parseModelsInfoOptions } from "@vymalo/opencode-models-info/lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { buildManifest, parseConfig } from "../src/index.js";
import {
  CLI_CLIENT,
  PUBLIC_URL,
  type RunningGateway,
  startGateway,
  testConfig,
} from "./fixtures/gateway.js";

/**
 * What opencode reads from `<url>/.well-known/opencode` (see FIELD-NOTES.md): `auth.command`
 * (argv, run without a shell), `auth.env` (the name `{env:…}` resolves to the stored token) and
 * `config`, merged as the lowest config layer. Strict where opencode is strict, and the provider
 * entry in the shape of an opencode provider config.
 */
const WellKnownOpencodeSchema = z.object({
  // The core's manifest shape (what the CLI reads), with auth required and strict here.
  ...WellKnownManifestSchema.shape,
  auth: z.strictObject(WellKnownManifestSchema.shape.auth.def.innerType.shape),
  config: z.object({
    $schema: z.string().optional(),
    provider: z.record(
      z.string(),
      z.object({
        npm: z.string(),
        name: z.string(),
        options: z.object({ baseURL: z.url(), apiKey: z.string() }).loose(),
        models: z.record(z.string(), z.object({ name: z.string() })),
      }),
    ),
    plugin: z.array(z.string().min(1)),
  }),
});

let gw: RunningGateway;
const ISSUER = "https://login.example.test/realms/corp";

beforeAll(async () => {
  gw = await startGateway(testConfig(ISSUER, { demo: true }, { providerId: "corp" }));
});
afterAll(() => gw?.close());

describe("GET /.well-known/opencode", () => {
  it("is public and has the shape opencode accepts", async () => {
    const response = await fetch(`${gw.url}/.well-known/opencode`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    const manifest = WellKnownOpencodeSchema.parse(await response.json());
    // Which versions: manifest-versions.test.ts.
    const pinned = (name: string) =>
      expect.stringMatching(new RegExp(`^${name}@\\d+\\.\\d+\\.\\d+`));

    expect(manifest.auth.env).toBe("OPENCODE_CORP_KEY");
    expect(manifest.auth.command).toEqual([
      "npx",
      "-y",
      pinned("@vymalo/opencode-oauth2"),
      "login",
      "corp",
      "--well-known",
      PUBLIC_URL,
      "--print-key",
    ]);
    expect(manifest.config.plugin).toEqual([
      pinned("@vymalo/opencode-oauth2"),
      pinned("@vymalo/opencode-models-info"),
    ]);

    const provider = manifest.config.provider.corp;
    expect(provider?.npm).toBe("@ai-sdk/openai-compatible");
    expect(provider?.options.baseURL).toBe(`${PUBLIC_URL}/v1`);
    expect(provider?.options.apiKey).toBe("{env:OPENCODE_CORP_KEY}");
    expect(provider?.models).toEqual({
      "team/coder": { name: "Team Coder" },
      "team/small": { name: "team/small" },
    });
  });

  it("publishes login settings opencode-oauth2 accepts, with the issuer written once", () => {
    const provider = gw.gateway.manifest.config.provider as Record<
      string,
      { options: { oauth2: unknown; meta: Record<string, unknown> } }
    >;
    const oauth2 = ProviderOAuth2Schema.parse(provider.corp?.options.oauth2);
    expect(oauth2).toMatchObject({
      issuer: ISSUER,
      clientId: CLI_CLIENT,
      scopes: ["openid", "offline_access"],
      authFlow: "device_code",
      pkce: true,
    });
    expect(provider.corp?.options.oauth2).not.toHaveProperty("clientSecret");

    const meta = parseModelsInfoOptions("corp", provider.corp?.options.meta ?? {});
    expect(meta).toEqual({
      options: expect.objectContaining({ modelsInfoUrl: `${PUBLIC_URL}/v1/models-info` }),
    });
  });

  it("answers 304 to its own ETag", async () => {
    const first = await fetch(`${gw.url}/.well-known/opencode`);
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${gw.url}/.well-known/opencode`, {
      headers: { "if-none-match": etag as string },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });
});

describe("manifest options", () => {
  it("points the command and plugins at local builds", () => {
    const manifest = buildManifest(
      parseConfig(
        testConfig(
          ISSUER,
          { demo: true },
          {
            manifest: {
              command: ["node", "/opt/oauth2/dist/cli/main.js"],
              plugins: [
                "file:///opt/oauth2/dist/index.js",
                "file:///opt/models-info/dist/index.js",
              ],
              env: "TEAM_LLM_KEY",
              configSchema: "https://opencode.ai/config.json",
            },
          },
        ),
      ),
    );
    expect(manifest.auth).toEqual({
      command: [
        "node",
        "/opt/oauth2/dist/cli/main.js",
        "login",
        "llm",
        "--well-known",
        PUBLIC_URL,
        "--print-key",
      ],
      env: "TEAM_LLM_KEY",
    });
    expect(manifest.config.plugin).toEqual([
      "file:///opt/oauth2/dist/index.js",
      "file:///opt/models-info/dist/index.js",
    ]);
    expect(manifest.config.$schema).toBe("https://opencode.ai/config.json");
    const provider = (manifest.config.provider as Record<string, { options: { apiKey: string } }>)
      .llm;
    expect(provider?.options.apiKey).toBe("{env:TEAM_LLM_KEY}");
  });

  it("pins the default packages to pluginVersion", () => {
    const manifest = buildManifest(
      parseConfig(testConfig(ISSUER, { demo: true }, { manifest: { pluginVersion: "1.2.3" } })),
    );
    expect(manifest.auth.command.slice(0, 3)).toEqual([
      "npx",
      "-y",
      "@vymalo/opencode-oauth2@1.2.3",
    ]);
    expect(manifest.config.plugin).toEqual([
      "@vymalo/opencode-oauth2@1.2.3",
      "@vymalo/opencode-models-info@1.2.3",
    ]);
  });
});
