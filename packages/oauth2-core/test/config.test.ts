import { describe, expect, it } from "vitest";
import { parseProviderConfig } from "../src/config/parse.js";
import { collectProviders } from "../src/opencode/collect.js";

const base = { issuer: "https://idp.example.com/realms/corp", clientId: "opencode-cli" };

function issuesOf(raw: unknown) {
  const parsed = parseProviderConfig("corp", raw);
  if (!("issues" in parsed)) throw new Error("expected issues");
  return parsed.issues;
}

describe("provider config", () => {
  it("applies defaults and infers a public client without a secret", () => {
    const parsed = parseProviderConfig("corp", base);
    if (!("config" in parsed)) throw new Error(JSON.stringify(parsed.issues));
    const { config } = parsed;
    expect(config.authFlow).toBe("authorization_code");
    expect(config.pkce).toBe(true);
    expect(config.scopes).toEqual(["openid"]);
    expect(config.client).toEqual({
      clientId: "opencode-cli",
      type: "public",
      authMethod: "none",
      clientSecret: undefined,
    });
    expect(config.loginClient).toBe(config.client);
  });

  it("accepts scopes as a space or comma separated string and de-duplicates", () => {
    const parsed = parseProviderConfig("corp", {
      ...base,
      scopes: "openid, offline_access  profile,openid",
    });
    if (!("config" in parsed)) throw new Error("invalid");
    expect(parsed.config.scopes).toEqual(["openid", "offline_access", "profile"]);
  });

  it("uses the confidential client for headless flows and the public interactiveClient for logins", () => {
    const parsed = parseProviderConfig("corp", {
      ...base,
      clientId: "llm-web",
      clientSecret: "s3cret",
      interactiveClient: { clientId: "opencode-cli" },
      headlessFlow: "client_credentials",
    });
    if (!("config" in parsed)) throw new Error(JSON.stringify(parsed.issues));
    expect(parsed.config.client).toMatchObject({
      clientId: "llm-web",
      type: "confidential",
      authMethod: "client_secret_basic",
    });
    expect(parsed.config.loginClient).toMatchObject({
      clientId: "opencode-cli",
      type: "public",
      authMethod: "none",
    });
    expect(parsed.config.loginClient.clientSecret).toBeUndefined();
  });

  it("resolves the login flow and the headless flow once, from authFlow and headlessFlow", () => {
    const flows = (raw: Record<string, unknown>) => {
      const parsed = parseProviderConfig("corp", { ...base, ...raw });
      if (!("config" in parsed)) throw new Error(JSON.stringify(parsed.issues));
      return { login: parsed.config.loginFlow, headless: parsed.config.headlessFlow };
    };
    expect(flows({ authFlow: "device_code" })).toEqual({
      login: "device_code",
      headless: undefined,
    });
    expect(
      flows({
        clientSecret: "s3cret",
        authFlow: "device_code",
        headlessFlow: "client_credentials",
      }),
    ).toEqual({ login: "device_code", headless: "client_credentials" });
    expect(flows({ clientSecret: "s3cret", authFlow: "client_credentials" })).toEqual({
      login: undefined,
      headless: "client_credentials",
    });
  });

  it("names provider, field, expectation and fix for a wrong type", () => {
    const [issue, ...rest] = issuesOf({ ...base, scopes: 42 });
    expect(rest).toHaveLength(0);
    expect(issue?.field).toBe("scopes");
    expect(issue?.location).toBe("provider.corp.options.oauth2.scopes");
    expect(issue?.message).toContain('provider "corp"');
    expect(issue?.expected).toMatch(/array of scopes or a space\/comma separated string/);
    expect(issue?.fix).toMatch(/Example: "openid offline_access"/);
  });

  it("says which bound a number crossed, and what kind of number a non-number should be", () => {
    const expected = (field: string, value: unknown) =>
      issuesOf({ ...base, [field]: value }).find((i) => i.field === field)?.expected;
    expect(expected("httpTimeoutMs", 50)).toMatch(/>=\s*100/);
    expect(expected("httpTimeoutMs", 2 ** 31)).toMatch(/at most 2147483647 ms/);
    expect(expected("redirectPort", 0)).toMatch(/>=\s*1\b/);
    expect(expected("redirectPort", 70000)).toMatch(/<=\s*65535/);
    expect(expected("redirectPort", "8765")).toBe("expected a port number");
    expect(expected("httpTimeoutMs", 1500.5)).toBe("expected a whole number of milliseconds");
    expect(expected("tokenExpirySkewMs", -1)).toMatch(/>=\s*0/);
  });

  it("rejects a secret on a declared public client", () => {
    const [issue] = issuesOf({ ...base, clientType: "public", clientSecret: "x" });
    expect(issue?.field).toBe("clientSecret");
    expect(issue?.expected).toMatch(/public client must not have a secret/);
  });

  it("requires a secret for client_credentials and a subject token for token_exchange", () => {
    expect(issuesOf({ ...base, authFlow: "client_credentials" }).map((i) => i.field)).toEqual([
      "clientSecret",
    ]);
    const fields = issuesOf({ ...base, clientSecret: "x", authFlow: "token_exchange" }).map(
      (i) => i.field,
    );
    expect(fields).toEqual(["subjectToken"]);
  });

  it("with endpoints.token set (no discovery), asks for the endpoint the login flow starts at", () => {
    const token = { token: "https://login.example.com/token" };
    const browser = issuesOf({ ...base, endpoints: token });
    expect(browser.map((i) => i.field)).toEqual(["endpoints.authorization"]);
    expect(browser[0]?.expected).toMatch(/authorization_code needs endpoints\.authorization/);
    const device = issuesOf({ ...base, authFlow: "device_code", endpoints: token });
    expect(device.map((i) => i.field)).toEqual(["endpoints.deviceAuthorization"]);
    const headless = {
      ...base,
      clientSecret: "x",
      authFlow: "client_credentials",
      endpoints: token,
    };
    expect("config" in parseProviderConfig("corp", headless)).toBe(true);
  });

  it("refuses plain http except on loopback", () => {
    expect(issuesOf({ ...base, issuer: "http://idp.example.com" })[0]?.expected).toMatch(/https/);
    expect(
      "config" in parseProviderConfig("corp", { ...base, issuer: "http://127.0.0.1:8080/oidc" }),
    ).toBe(true);
  });

  it("reports unknown fields by name (typos are the common case)", () => {
    const [issue] = issuesOf({ ...base, clientID: "oops" });
    expect(issue?.expected).toBe('unknown field "clientID"');
    expect(issue?.fix).toMatch(/case-sensitive/);
  });

  it("reports several bad fields at once, never throwing", () => {
    const issues = issuesOf({ issuer: 5, authFlow: "magic", pkce: "yes" });
    expect(issues.map((i) => i.field).sort()).toEqual(["authFlow", "clientId", "issuer", "pkce"]);
    expect(() => parseProviderConfig("x", null)).not.toThrow();
    expect(issuesOf(null)[0]?.field).toBe("(oauth2 block)");
  });
});

describe("collectProviders (both shapes)", () => {
  it("merges plugin options and per-provider config field by field, per-provider winning", () => {
    const { providers, issues } = collectProviders(
      {
        provider: {
          corp: { options: { oauth2: { scopes: "openid profile" } } },
          plain: { options: {} },
        },
      },
      { providers: { corp: { ...base, scopes: ["openid"] }, other: { ...base, clientId: "b" } } },
    );
    expect(issues).toEqual([]);
    expect(Object.keys(providers).sort()).toEqual(["corp", "other"]);
    expect(providers.corp?.scopes).toEqual(["openid", "profile"]);
    expect(providers.corp?.clientId).toBe("opencode-cli");
    expect(providers.other?.clientId).toBe("b");
  });

  it("keeps valid providers when another is invalid, and says where the bad one was written", () => {
    const { providers, issues } = collectProviders(
      { provider: { good: { options: { oauth2: base } } } },
      { providers: { bad: { issuer: "nope" } } },
    );
    expect(Object.keys(providers)).toEqual(["good"]);
    expect(issues.map((i) => i.location)).toEqual([
      "plugin options providers.bad.issuer",
      "plugin options providers.bad.clientId",
    ]);
  });
});

describe("collectFromOpencodeConfig", () => {
  it("finds the oauth2 plugin options in the plugin array, by package name or file URL", async () => {
    const { collectFromOpencodeConfig } = await import("../src/opencode/collect.js");
    for (const spec of [
      "@vymalo/opencode-oauth2",
      "file:///work/packages/opencode-oauth2/dist/index.js",
    ]) {
      const { providers } = collectFromOpencodeConfig({
        plugin: ["other-plugin", [spec, { providers: { corp: base } }]],
      });
      expect(Object.keys(providers)).toEqual(["corp"]);
    }
    expect(
      Object.keys(
        collectFromOpencodeConfig({ plugin: [["x", { providers: { corp: base } }]] }).providers,
      ),
    ).toEqual([]);
  });
});
