import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type ModelsServer, startModelsServer } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { DAY, DOCUMENT, type Harness, harness } from "./harness.js";

let h: Harness;
let other: ModelsServer | undefined;
afterEach(async () => {
  await other?.close();
  other = undefined;
  await h?.close();
});

const CLIENT_CREDENTIALS = "client_credentials";
const small = () => ({ "team/small": {} });

describe("models-info and the shared token (real IdP)", () => {
  it("answers a 401 with one refresh and one retry, then succeeds", async () => {
    h = await harness();
    const config = () => ({ provider: { corp: h.provider({ models: small() }) } });
    await h.run(config());
    const first = h.server.requests[0]?.token as string;
    expect(h.idp.countGrants(CLIENT_CREDENTIALS)).toBe(1);

    // The server stops accepting that token while it is still fresh in the token cache.
    h.server.revoke(first);
    h.clock.now += DAY + 1;
    const result = await h.run(config());

    expect(h.server.requests.slice(1).map((r) => r.status)).toEqual([401, 304]);
    expect(h.server.requests[1]?.token).toBe(first);
    expect(h.server.requests[2]?.token).not.toBe(first);
    expect(h.idp.countGrants(CLIENT_CREDENTIALS)).toBe(2);
    expect(h.events("models_info_unauthorized_retrying")).toMatchObject([{ provider: "corp" }]);
    expect(h.events("oauth2_token_invalidated")).toHaveLength(1);
    expect(result.provider.corp.models?.["team/small"]).toMatchObject({ limit: { output: 4096 } });
  });

  it("retries only once when the server keeps refusing, then reports it", async () => {
    h = await harness();
    other = await startModelsServer({ verify: async () => false, document: DOCUMENT });
    const config = {
      provider: {
        corp: {
          options: {
            baseURL: other.baseURL,
            oauth2: h.oauth2(),
            meta: { modelsInfoUrl: "models-info.json" },
          },
          models: small(),
        },
      },
    };
    await h.run(config);
    expect(other.requests.map((r) => r.status)).toEqual([401, 401]);
    expect(h.idp.countGrants(CLIENT_CREDENTIALS)).toBe(2);
    expect(h.events("models_info_fetch_failed_no_cache")).toMatchObject([
      { error_code: "unauthorized", status: 401 },
    ]);
    expect(config.provider.corp.models).toEqual(small());
  });

  it("never prompts: without a token it logs login_required and falls back to the cache", async () => {
    h = await harness();
    // Seed a copy, then forget every token: a browser login would be the only way to get one.
    await h.run({ provider: { corp: h.provider({ models: small() }) } });
    await rm(join(h.cacheDir, "tokens"), { recursive: true, force: true });
    const interactive = h.oauth2({ authFlow: "authorization_code" });
    delete interactive.clientSecret;

    h.clock.now += 3 * DAY;
    const grants = h.idp.tokenRequests.length;
    const config = await h.run({
      provider: { corp: h.provider({ models: small(), oauth2: interactive }) },
    });
    expect(h.server.count()).toBe(1);
    expect(h.idp.tokenRequests.length).toBe(grants);
    expect(h.events("models_info_login_required")).toMatchObject([
      {
        level: "warn",
        provider: "corp",
        reason: "no_token",
        command: "opencode-oauth2 login corp",
      },
    ]);
    expect(h.events("models_info_fetch_failed_using_stale")).toMatchObject([
      { error_code: "login_required" },
    ]);
    expect(config.provider.corp.models?.["team/small"]).toMatchObject({ limit: { output: 4096 } });
  });

  it("fetches without a token for a provider that is not oauth2-managed", async () => {
    h = await harness({ verify: false });
    const config = await h.run({
      provider: { open: h.provider({ oauth2: false, models: small() }) },
    });
    expect(h.server.requests).toMatchObject([{ status: 200, token: undefined }]);
    expect(h.idp.tokenRequests).toEqual([]);
    expect(config.provider.open.models?.["team/small"]).toMatchObject({ cost: { input: 0.1 } });
  });

  it("keeps the token away from a document on another origin unless told to send it", async () => {
    h = await harness();
    other = await startModelsServer({ document: DOCUMENT });
    const config = (auth?: string) => ({
      provider: {
        corp: h.provider({
          models: small(),
          meta: {
            modelsInfoUrl: `${other?.baseURL}/models-info.json`,
            ...(auth ? { modelsInfoAuth: auth } : {}),
          },
        }),
      },
    });
    const result = await h.run(config());
    expect(other.requests).toMatchObject([{ status: 200, token: undefined }]);
    expect(h.events("models_info_token_withheld")).toHaveLength(1);
    expect(result.provider.corp.models?.["team/small"]).toMatchObject({ limit: { output: 4096 } });

    h.clock.now += DAY + 1;
    await h.run(config("always"));
    await expect(h.idp.verifyAccessToken(other.requests[1]?.token ?? "")).resolves.toBeTruthy();
  });

  it("finds oauth2 settings given as opencode-oauth2 plugin options, whatever the plugin order", async () => {
    h = await harness();
    const config = {
      plugin: [
        "file:///somewhere/opencode-models-info/dist/index.js",
        ["@vymalo/opencode-oauth2", { providers: { corp: h.oauth2() } }] as [string, object],
      ],
      provider: { corp: h.provider({ oauth2: false, models: small() }) },
    };
    await h.run(config);
    expect(h.server.requests).toMatchObject([{ status: 200 }]);
    expect(h.idp.countGrants(CLIENT_CREDENTIALS)).toBe(1);
    expect(config.provider.corp.models?.["team/small"]).toMatchObject({
      limit: { context: 32768 },
    });
  });

  it("does not send anything for a provider whose oauth2 block is invalid", async () => {
    h = await harness();
    await h.run({
      provider: { corp: h.provider({ models: small(), oauth2: { issuer: h.idp.issuer } }) },
    });
    expect(h.server.count()).toBe(0);
    expect(h.events("models_info_fetch_failed_no_cache")).toMatchObject([
      { error_code: "oauth2_config_invalid" },
    ]);
  });
});
