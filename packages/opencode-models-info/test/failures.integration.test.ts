import { DOCUMENT_PATH, LIST_PATH } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { cachedFiles, DAY, DOCUMENT, fileState, type Harness, harness } from "./harness.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const small = () => ({ "team/small": {} });

describe("models-info when things go wrong (real IdP, real HTTP)", () => {
  it("names a malformed document, keeps the good copy, and still resolves", async () => {
    h = await harness();
    const config = () => ({ provider: { corp: h.provider({ models: small() }) } });
    h.server.mode = "malformed";
    await expect(h.run(config())).resolves.toEqual(config());
    expect(h.events("models_info_document_invalid")).toMatchObject([
      { level: "error", provider: "corp", error_code: "document_invalid" },
    ]);
    expect(h.events("models_info_fetch_failed_no_cache")).toHaveLength(1);
    expect(await cachedFiles(h.cacheDir)).toEqual([]);

    h.server.mode = "ok";
    await h.run(config());
    const [file] = await cachedFiles(h.cacheDir);
    const good = await fileState(file as string);

    // Valid JSON, wrong shape: also named, and the stale copy stays in use and on disk.
    h.server.setDocument({ models: DOCUMENT.data });
    h.clock.now += DAY + 1;
    const result = await h.run(config());
    expect(h.events("models_info_document_invalid")).toHaveLength(2);
    expect(h.events("models_info_fetch_failed_using_stale")).toHaveLength(1);
    expect(result.provider.corp.models?.["team/small"]).toMatchObject({ limit: { output: 4096 } });
    expect((await fileState(file as string)).sha256).toBe(good.sha256);
  });

  it("refuses a document that never ends at 8 MiB, long before the timeout, and keeps the good copy", async () => {
    h = await harness();
    const config = () => ({
      provider: { corp: h.provider({ models: small(), meta: { modelsInfoTimeoutMs: 60_000 } }) },
    });
    await h.run(config());
    const [file] = await cachedFiles(h.cacheDir);
    const good = await fileState(file as string);

    h.server.mode = "endless";
    h.clock.now += DAY + 1;
    const result = await h.run(config());
    const [invalid] = h.events("models_info_document_invalid");
    expect(invalid).toMatchObject({ provider: "corp", error_code: "document_invalid" });
    expect(String(invalid?.detail)).toMatch(/more than 8 MiB/);
    expect(String(invalid?.fix)).toMatch(/smaller|only the models/);
    expect(h.events("models_info_fetch_failed_using_stale")).toHaveLength(1);
    expect(result.provider.corp.models?.["team/small"]).toMatchObject({ limit: { output: 4096 } });
    expect((await fileState(file as string)).sha256).toBe(good.sha256);
    // The reader hung up: the server had queued a little past the limit, not the 60 s of a timeout.
    await expect.poll(() => h.server.endlessBytesBeforeHangUp).toBeGreaterThan(8 * 1024 * 1024);
    expect(h.server.endlessBytesBeforeHangUp).toBeLessThan(64 * 1024 * 1024);
  });

  it("skips one bad entry with an event and merges the others", async () => {
    h = await harness();
    h.server.setDocument({
      data: [{ id: "team/small", pricing: { prompt: "cheap" } }, ...DOCUMENT.data.slice(0, 1)],
    });
    const config = await h.run({
      provider: { corp: h.provider({ models: { "team/coder": {}, ...small() } }) },
    });
    expect(h.events("models_info_entry_skipped")).toMatchObject([
      { level: "warn", provider: "corp", index: 0, id: "team/small" },
    ]);
    expect(config.provider.corp.models?.["team/coder"]).toMatchObject({ limit: { output: 16384 } });
    expect(config.provider.corp.models?.["team/small"]).toEqual({});
    expect(h.events("models_info_model_not_listed")).toMatchObject([{ model: "team/small" }]);
  });

  it("does not hold the start beyond the provider's timeout", async () => {
    h = await harness();
    h.server.mode = "slow";
    h.server.slowMs = 10_000;
    const started = Date.now();
    await h.run({
      provider: {
        // Bounded by the option…
        a: h.provider({ models: small(), meta: { modelsInfoTimeoutMs: 300 } }),
        // …or, by default, by the oauth2 block's httpTimeoutMs.
        b: h.provider({ models: small(), oauth2: h.oauth2({ httpTimeoutMs: 400 }) }),
      },
    });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(1500);
    expect(h.events("models_info_fetch_failed_no_cache")).toMatchObject([
      { provider: "a", error_code: "timeout" },
      { provider: "b", error_code: "timeout" },
    ]);
  });

  it("fetches every provider at once", async () => {
    h = await harness();
    h.server.mode = "slow";
    h.server.slowMs = 300;
    const ids = ["a", "b", "c"];
    const config = await h.run({
      provider: Object.fromEntries(ids.map((id) => [id, h.provider({ models: small() })])),
    });
    expect(h.server.maxInFlight).toBe(3);
    for (const id of ids) {
      expect(config.provider[id]?.models?.["team/small"]).toMatchObject({
        limit: { output: 4096 },
      });
    }
  });

  it("discovers the models of a provider that lists none, with the same token", async () => {
    h = await harness();
    h.server.setModelList(["team/coder", "team/unknown"]);
    const config = { provider: { corp: h.provider() } };
    await h.run(config);
    const list = h.server.requests.find((r) => r.path === LIST_PATH);
    expect(list?.status).toBe(200);
    await expect(h.idp.verifyAccessToken(list?.token ?? "")).resolves.toBeTruthy();
    expect(Object.keys(config.provider.corp.models ?? {})).toEqual(["team/coder", "team/unknown"]);
    expect(config.provider.corp.models?.["team/coder"]).toMatchObject({ cost: { input: 3 } });
    expect(h.events("models_info_applied")).toMatchObject([
      { provider: "corp", added: ["team/coder", "team/unknown"], updated: [] },
    ]);
    // The list is cached too: the next start makes no request.
    await h.run({ provider: { corp: h.provider() } });
    expect(h.server.count(LIST_PATH)).toBe(1);
    expect(h.server.count(DOCUMENT_PATH)).toBe(1);
  });

  it("uses the document as the list when it is served at <baseURL>/models", async () => {
    h = await harness();
    h.server.setModelList(["team/listed"]);
    const config = { provider: { corp: h.provider({ meta: { modelsInfoUrl: "models" } }) } };
    await h.run(config);
    expect(h.server.requests.map((r) => r.path)).toEqual([LIST_PATH]);
    expect(config.provider.corp.models).toEqual({ "team/listed": {} });
  });

  it("adds the document's models only when modelsInfoAddModels is set", async () => {
    h = await harness();
    const off = { provider: { corp: h.provider({ models: small() }) } };
    const on = {
      provider: { corp: h.provider({ models: small(), meta: { modelsInfoAddModels: true } }) },
    };
    await h.run(off);
    await h.run(on);
    expect(Object.keys(off.provider.corp.models ?? {})).toEqual(["team/small"]);
    expect(Object.keys(on.provider.corp.models ?? {})).toEqual(["team/small", "team/coder"]);
  });

  it("reports bad options and unresolvable URLs without any request", async () => {
    h = await harness();
    const noBase = h.provider({ models: small() });
    delete noBase.options.baseURL;
    await h.run({
      provider: {
        typo: h.provider({ models: small(), meta: { modelsInfoTtl: 5 } }),
        nobase: noBase,
      },
    });
    expect(h.server.count()).toBe(0);
    expect(h.events("models_info_options_invalid")).toMatchObject([
      { provider: "typo", location: "provider.typo.options.meta.modelsInfoTtl" },
    ]);
    expect(h.events("models_info_url_invalid")).toMatchObject([
      { provider: "nobase", error_code: "url_invalid" },
    ]);
    expect(h.events("models_info_plugin_loaded")).toMatchObject([{ providers: ["nobase"] }]);
  });
});
