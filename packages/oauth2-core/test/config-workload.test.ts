// The config rules of private_key_jwt, jwt_bearer and the subjectToken sources: each wrong pair
// names the field and says what to change.
import { describe, expect, it } from "vitest";
import { parseProviderConfig } from "../src/config/parse.js";

const base = { issuer: "https://idp.example.com/realms/corp", clientId: "ci-bot" };

function issuesOf(raw: Record<string, unknown>) {
  const parsed = parseProviderConfig("corp", { ...base, ...raw });
  if (!("issues" in parsed)) return [];
  return parsed.issues.map((i) => ({ field: i.field, expected: i.expected }));
}

function configOf(raw: Record<string, unknown>) {
  const parsed = parseProviderConfig("corp", { ...base, ...raw });
  if (!("config" in parsed)) throw new Error(JSON.stringify(parsed.issues));
  return parsed.config;
}

describe("clientAssertion (private_key_jwt)", () => {
  it("makes the client confidential with private_key_jwt, enough for client_credentials", () => {
    const config = configOf({
      authFlow: "client_credentials",
      clientAssertion: { keyFile: "/etc/ci.pem" },
    });
    expect(config.client).toMatchObject({
      type: "confidential",
      authMethod: "private_key_jwt",
      assertion: { keyFile: "/etc/ci.pem", audience: "token_endpoint" },
    });
    expect(config.client.clientSecret).toBeUndefined();
  });

  it("refuses the pairs that cannot work, naming the field", () => {
    expect(issuesOf({ clientAuthMethod: "private_key_jwt" })).toEqual([
      {
        field: "clientAssertion",
        expected: expect.stringContaining('set clientAssertion { "keyFile": … }'),
      },
    ]);
    expect(
      issuesOf({ clientAuthMethod: "client_secret_post", clientAssertion: { keyFile: "/k" } })[0],
    ).toMatchObject({
      field: "clientAssertion",
      expected: expect.stringMatching(/authenticates with the client secret, not a key/),
    });
    expect(issuesOf({ clientType: "public", clientAssertion: { keyFile: "/k" } })[0]).toMatchObject(
      { field: "clientAssertion", expected: expect.stringMatching(/public client/) },
    );
    expect(issuesOf({ clientSecret: "s", clientAssertion: { keyFile: "/k" } })[0]).toMatchObject({
      field: "clientSecret",
      expected: expect.stringMatching(/never sends clientSecret/),
    });
    expect(
      issuesOf({ interactiveClient: { clientId: "cli", clientAuthMethod: "private_key_jwt" } })[0],
    ).toMatchObject({ field: "interactiveClient.clientAssertion" });
    expect(issuesOf({ clientAssertion: { keyFile: "/k", alg: "HS256" } })[0]).toMatchObject({
      field: "clientAssertion.alg",
    });
    const token = { source: "github-actions" };
    expect(issuesOf({ clientAssertion: { keyFile: "/k", token } }).map((i) => i.field)).toEqual([
      "clientAssertion.token",
    ]);
    expect(issuesOf({ clientAssertion: {} }).map((i) => i.field)).toEqual([
      "clientAssertion.keyFile",
    ]);
    expect(issuesOf({ clientAssertion: { token, kid: "k1" } })[0]).toMatchObject({
      field: "clientAssertion.kid",
      expected: expect.stringMatching(/belongs to a keyFile/),
    });
  });
});

describe("subjectToken sources and jwt_bearer", () => {
  it("jwt_bearer needs a token source but no confidential client", () => {
    expect(issuesOf({ authFlow: "jwt_bearer" })).toEqual([
      {
        field: "subjectToken",
        expected: expect.stringMatching(/jwt_bearer needs a JWT assertion/),
      },
    ]);
    const config = configOf({ authFlow: "jwt_bearer", subjectToken: { source: "kubernetes" } });
    expect(config.headlessFlow).toBe("jwt_bearer");
    expect(config.client.authMethod).toBe("none");
  });

  it("accepts github-actions with an audience, and file/env implied as before", () => {
    expect(
      configOf({
        clientSecret: "s",
        headlessFlow: "token_exchange",
        subjectToken: { source: "github-actions", audience: "api://AzureADTokenExchange" },
      }).subjectToken,
    ).toMatchObject({ source: "github-actions", audience: "api://AzureADTokenExchange" });
    expect(
      configOf({ authFlow: "jwt_bearer", subjectToken: { env: "CI_JOB_JWT" } }).subjectToken,
    ).toMatchObject({ env: "CI_JOB_JWT" });
  });

  it("refuses fields the source does not read", () => {
    const at = (subjectToken: Record<string, unknown>) =>
      issuesOf({ authFlow: "jwt_bearer", subjectToken }).map((i) => i.field);
    expect(at({ source: "github-actions", file: "/t" })).toEqual(["subjectToken.file"]);
    expect(at({ source: "kubernetes", env: "T" })).toEqual(["subjectToken.env"]);
    expect(at({ file: "/t", audience: "x" })).toEqual(["subjectToken.audience"]);
    expect(at({ source: "file" })).toEqual(["subjectToken.file"]);
    expect(at({})).toEqual(["subjectToken.file"]);
    expect(at({ source: "gitlab" })).toEqual(["subjectToken.source"]);
  });
});
