import { describe, expect, it } from "vitest";
import { applyEnvOverrides, type GatewayConfigInput, parseConfig } from "../src/index.js";
import { configErrorOf, testConfig } from "./fixtures/gateway.js";

/**
 * The access, quota and metrics sections: defaults, and a refusal that names the field and the
 * fix for each mistake a config can make in them.
 */

const valid = (extra: Partial<GatewayConfigInput> = {}) =>
  testConfig("https://login.example.test", { baseURL: "http://vllm:8000/v1" }, extra);

describe("access, quota and metrics", () => {
  it("get their defaults", () => {
    const config = parseConfig(
      valid({
        access: { groups: { staff: ["*"] } },
        quota: { user: { requestsPerMinute: 10 } },
        metrics: {},
      }),
    );
    expect(config.access).toEqual({ groups: { staff: ["*"] }, scopes: {}, everyone: [] });
    expect(config.quota).toMatchObject({
      groups: {},
      failMode: "open",
      redisTimeoutMs: 250,
      keyPrefix: "opencode-gateway:quota:",
      maxTrackedKeys: 100_000,
    });
    expect(config.metrics).toEqual({ host: "127.0.0.1", port: 9464 });
  });

  it.each<[string, Partial<GatewayConfigInput>, string, RegExp]>([
    [
      "a model the gateway does not serve",
      { access: { groups: { staff: ["team/coder", "gpt-5"] } } },
      "access.groups.staff.1",
      /"gpt-5" is not a model this gateway serves: use an id from models\[\] \(team\/coder, team\/small\) or "\*"/,
    ],
    [
      "a table that grants nothing",
      { access: { groups: { staff: [] } } },
      "access",
      /grants no model to anyone/,
    ],
    ["a quota that limits nobody", { quota: { groups: {} } }, "quota", /limits nobody/],
    [
      "a limit of zero",
      { quota: { user: { requestsPerMinute: 0 } } },
      "quota.user.requestsPerMinute",
      /greater than 0 \(remove the field for no limit\)/,
    ],
    [
      "an http URL for Redis",
      { quota: { user: { tokensPerDay: 5 }, redis: "http://redis:6379" } },
      "quota.redis",
      /redis:\/\/ or rediss:\/\/ URL/,
    ],
    [
      "an unknown fail mode",
      { quota: { user: { tokensPerDay: 5 }, failMode: "maybe" as "open" } },
      "quota.failMode",
      /"open" or "closed"/,
    ],
    [
      "metrics on the public port",
      { metrics: { port: 8080 }, listen: { port: 8080 } },
      "metrics.port",
      /a port of its own, not listen.port \(8080\)/,
    ],
    [
      "a metrics allow-list entry that is not an address",
      { metrics: { allowFrom: ["10.0.0.0/8", "prometheus"] } },
      "metrics.allowFrom.1",
      /"prometheus" is not an IP address or CIDR/,
    ],
  ])("%s", (_name, extra, field, message) => {
    const issue = configErrorOf(valid(extra)).issues.find((i) => i.field === field);
    expect(issue?.expected).toMatch(message);
  });

  it("takes the Redis URL from OPENCODE_GATEWAY_QUOTA_REDIS", () => {
    const { config, envSources } = applyEnvOverrides(
      valid({ quota: { user: { tokensPerDay: 5 } } }),
      {
        OPENCODE_GATEWAY_QUOTA_REDIS: "redis://:pw@redis.internal:6379/2",
      },
    );
    expect(parseConfig(config).quota?.redis).toBe("redis://:pw@redis.internal:6379/2");
    expect(envSources.get("quota.redis")).toBe("OPENCODE_GATEWAY_QUOTA_REDIS");
  });
});
