import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  applyEnvOverrides,
  type GatewayConfigInput,
  loadConfig,
  parseConfig,
} from "../src/index.js";
import { CLI_CLIENT, configErrorOf, testConfig, WEB_CLIENT } from "./fixtures/gateway.js";

/** An invalid config is refused with the field, what is expected and an example of the fix. */

const ISSUER = "https://login.example.test/realms/corp";
const valid = (extra: Partial<GatewayConfigInput> = {}) =>
  testConfig(ISSUER, { baseURL: "http://vllm.internal:8000/v1/" }, extra);

describe("a valid config", () => {
  it("gets its defaults, and always accepts the published CLI client", () => {
    const config = parseConfig(valid());
    expect(config.algorithms).toEqual(["RS256", "ES256", "PS256", "EdDSA"]);
    expect(config.clockToleranceSec).toBe(30);
    expect(config.groupsClaim).toBe("groups");
    expect(config.clientClaims).toEqual(["azp", "client_id"]);
    expect(config.providerId).toBe("llm");
    expect(config.acceptedClients).toEqual([CLI_CLIENT, WEB_CLIENT]);
    expect(config.upstream.baseURL).toBe("http://vllm.internal:8000/v1");
    expect(config.oauth2).toMatchObject({ issuer: ISSUER, clientId: CLI_CLIENT, pkce: true });
  });
});

describe("an invalid config names the field and the fix", () => {
  it.each<[string, unknown, string, RegExp]>([
    [
      "no publicUrl",
      { ...valid(), publicUrl: undefined },
      "publicUrl",
      /required.*Example: "https:\/\//,
    ],
    ["plain http issuer", valid({ issuer: "http://login.example.test" }), "issuer", /https:\/\//],
    ["no audience", valid({ audiences: [] }), "audiences", /at least one accepted audience/],
    ["HS256", valid({ algorithms: ["RS256", "HS256"] }), "algorithms.1", /key confusion/],
    ["alg none", valid({ algorithms: ["none"] }), "algorithms.0", /unsigned/],
    ["a huge clock tolerance", valid({ clockToleranceSec: 3600 }), "clockToleranceSec", /NTP/],
    ["no upstream", valid({ upstream: {} }), "upstream.baseURL", /upstream\.demo: true/],
    [
      "baseURL and demo",
      valid({ upstream: { baseURL: "http://vllm:8000/v1", demo: true } }),
      "upstream.demo",
      /not both/,
    ],
    ["no models", valid({ models: [] }), "models", /at least one model/],
    [
      "a zero context length",
      valid({ models: [{ id: "m", context_length: 0 }] }),
      "models.0.context_length",
      /greater than 0.*Example: 131072/,
    ],
    [
      "a negative price",
      valid({ models: [{ id: "m", context_length: 1, pricing: { prompt: -1, completion: 0 } }] }),
      "models.0.pricing.prompt",
      /non-negative/,
    ],
    [
      "a duplicate model",
      valid({
        models: [
          { id: "m", context_length: 1 },
          { id: "m", context_length: 2 },
        ],
      }),
      "models.1.id",
      /duplicate/,
    ],
    ["no oauth2.clientId", valid({ oauth2: {} }), "oauth2.clientId", /client id/],
    [
      "a secret in the public manifest",
      valid({ oauth2: { clientId: "x", clientSecret: "s" } }),
      "oauth2.clientSecret",
      /never publish a secret/,
    ],
    [
      "a machine grant",
      valid({ oauth2: { clientId: "x", authFlow: "client_credentials" } }),
      "oauth2.authFlow",
      /authorization_code or device_code/,
    ],
    [
      "a login port out of range (the core's own message)",
      valid({ oauth2: { clientId: "x", redirectPort: 70000 } }),
      "oauth2.redirectPort",
      /Too big: expected number to be <=65535/,
    ],
    [
      "a second issuer",
      valid({ oauth2: { clientId: "x", issuer: "https://other" } }),
      "oauth2.issuer",
      /top-level `issuer`/,
    ],
    ["an unknown field", { ...valid(), audience: "x" }, "audience", /unknown field.*audiences/],
    ["a bad provider id", valid({ providerId: "My LLM" }), "providerId", /lower-case/],
    [
      "a trusted proxy that is not an address",
      valid({ listen: { trustProxy: ["10.0.0.0/8", "lb.internal"] } }),
      "listen.trustProxy.1",
      /"lb\.internal" is not an IP address or CIDR/,
    ],
    [
      "a body limit under 1 KiB",
      valid({ listen: { maxBodyBytes: 10 } }),
      "listen.maxBodyBytes",
      /Largest request body/,
    ],
  ])("%s", (_name, input, field, message) => {
    const error = configErrorOf(input);
    expect(error.name).toBe("GatewayConfigError");
    const issue = error.issues.find((i) => i.field === field);
    expect(issue, error.message).toBeDefined();
    expect(error.message).toMatch(new RegExp(`- ${field.replace(/\./g, "\\.")}: `));
    expect(error.message.split("\n").find((line) => line.includes(`- ${field}:`))).toMatch(message);
  });
});

describe("environment overrides", () => {
  it("set fields on top of the file, and replace a demo upstream", () => {
    const { config, envSources } = applyEnvOverrides(testConfig(ISSUER, { demo: true }), {
      OPENCODE_GATEWAY_ISSUER: "https://login.example.test/realms/other",
      OPENCODE_GATEWAY_AUDIENCES: "api://a, api://b",
      OPENCODE_GATEWAY_UPSTREAM_URL: "http://vllm:8000/v1",
      OPENCODE_GATEWAY_UPSTREAM_API_KEY: "sk-upstream",
      PORT: "9000",
      OPENCODE_GATEWAY_PORT: "9100",
      OPENCODE_GATEWAY_TRUST_PROXY: "10.0.0.0/8 fd00::/8",
    });
    const parsed = parseConfig(config, { envSources });
    expect(parsed.issuer).toBe("https://login.example.test/realms/other");
    expect(parsed.audiences).toEqual(["api://a", "api://b"]);
    expect(parsed.upstream).toMatchObject({
      baseURL: "http://vllm:8000/v1",
      apiKey: "sk-upstream",
    });
    expect(parsed.upstream.demo).toBeUndefined();
    expect(parsed.listen.port).toBe(9100);
    expect(parsed.listen.trustProxy).toEqual(["10.0.0.0/8", "fd00::/8"]);
    expect(
      parseConfig(applyEnvOverrides(valid(), { OPENCODE_GATEWAY_TRUST_PROXY: "1" }).config),
    ).toMatchObject({ listen: { trustProxy: 1 } });
    expect(parsed.oauth2.issuer).toBe("https://login.example.test/realms/other");
  });

  it("name the env var in errors", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gateway-config-"));
    const file = join(dir, "gateway.json");
    await writeFile(file, JSON.stringify(valid()));
    const error = await loadConfig(file, { OPENCODE_GATEWAY_PORT: "eighty" }).catch((e) => e);
    expect(error.message).toContain(`invalid gateway config (${file})`);
    expect(error.message).toMatch(
      /- listen\.port \(set by OPENCODE_GATEWAY_PORT\): expected a port/,
    );
  });

  it("a config file that is not JSON is named", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gateway-config-"));
    const file = join(dir, "gateway.json");
    await writeFile(file, "{ publicUrl: nope");
    await expect(loadConfig(file, {})).rejects.toThrow(/gateway\.json.*\n.*not valid JSON/);
    await expect(loadConfig(join(dir, "missing.json"), {})).rejects.toThrow(/cannot read/);
  });
});
