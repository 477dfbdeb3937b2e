import { stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { DOCUMENT_PATH } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { cachedFiles, DAY, fileState, type Harness, harness } from "./harness.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const CLIENT_CREDENTIALS = "client_credentials";

/** A config with one managed provider listing two of the document's models. */
const corpConfig = () => ({
  provider: {
    corp: h.provider({
      models: {
        "team/coder": { limit: { context: 50000 } },
        "team/small": {},
      },
    }),
  },
});

describe("models-info cache (real IdP, real HTTP)", () => {
  it("merges limits and costs fetched with the user's token, then starts with no request at all", async () => {
    h = await harness();
    const config = await h.run(corpConfig());

    const coder = config.provider.corp.models?.["team/coder"];
    expect(coder).toMatchObject({
      name: "Team Coder",
      limit: { context: 50000, output: 16384 }, // the user's context wins
      cost: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
      modalities: { input: ["text", "image", "pdf"], output: ["text"] },
      tool_call: true,
      reasoning: true,
      temperature: true,
      attachment: true,
    });
    expect(config.provider.corp.models?.["team/small"]).toMatchObject({
      limit: { context: 32768, output: 4096 },
      cost: { input: 0.1, output: 0.4 },
    });
    // The request carried a token the IdP signed.
    const [served] = h.server.requests;
    expect(served?.status).toBe(200);
    await expect(h.idp.verifyAccessToken(served?.token ?? "")).resolves.toMatchObject({
      client_id: "svc",
    });
    expect(h.events("models_info_fetched")).toMatchObject([
      { service: "opencode-models-info", level: "info", provider: "corp", models: 2, skipped: 0 },
    ]);

    // The cache: one 0600 file in a 0700 dir.
    const [file] = await cachedFiles(h.cacheDir);
    expect((await fileState(file as string)).mode).toBe(0o600);
    expect((await stat(dirname(file as string))).mode & 0o777).toBe(0o700);

    // A new process within the TTL: no request to the models server, none to the IdP either.
    const grants = h.idp.countGrants(CLIENT_CREDENTIALS);
    const again = await h.run(corpConfig());
    expect(h.server.count()).toBe(1);
    expect(h.idp.countGrants(CLIENT_CREDENTIALS)).toBe(grants);
    expect(again.provider.corp.models?.["team/coder"]).toEqual(coder);
    expect(h.events("models_info_cache_hit")).toHaveLength(1);

    // The same process again: served from memory.
    await h.rerun(corpConfig());
    expect(h.server.count()).toBe(1);
  });

  it("revalidates with the ETag after the TTL: a 304 refreshes the timestamp and leaves the file alone", async () => {
    h = await harness();
    await h.run(corpConfig());
    const [file] = await cachedFiles(h.cacheDir);
    const before = await fileState(file as string);
    expect(h.events("models_info_cache_written")).toHaveLength(1);

    h.clock.now += DAY + 1;
    const config = await h.run(corpConfig());
    const revalidation = h.server.requests.at(-1);
    expect(revalidation).toMatchObject({ path: DOCUMENT_PATH, status: 304 });
    expect(revalidation?.ifNoneMatch).toMatch(/^"[0-9a-f]{16}"$/);
    expect(h.events("models_info_not_modified")).toHaveLength(1);
    expect(config.provider.corp.models?.["team/small"]).toMatchObject({ limit: { output: 4096 } });

    const after = await fileState(file as string);
    expect(after.ino).toBe(before.ino);
    expect(after.sha256).toBe(before.sha256);
    expect(h.events("models_info_cache_written")).toHaveLength(1);
    expect(after.mtimeMs).toBe(h.clock.now);

    // The refreshed timestamp counts: a start right after makes no request.
    await h.run(corpConfig());
    expect(h.server.count()).toBe(2);
  });

  it("replaces the copy when the document changed, and honours a per-provider TTL", async () => {
    h = await harness();
    const config = () => ({
      provider: {
        corp: h.provider({ meta: { modelsInfoTtlMs: 60_000 }, models: { "team/small": {} } }),
      },
    });
    await h.run(config());
    h.server.setDocument([{ id: "team/small", top_provider: { max_completion_tokens: 9999 } }]);

    h.clock.now += 59_000; // still fresh
    expect((await h.run(config())).provider.corp.models?.["team/small"]).toMatchObject({
      limit: { output: 4096 },
    });
    h.clock.now += 2_000; // past the provider's TTL
    const updated = await h.run(config());
    expect(updated.provider.corp.models?.["team/small"]).toMatchObject({ limit: { output: 9999 } });
    expect(h.server.requests.map((r) => r.status)).toEqual([200, 200]);
    expect(h.events("models_info_cache_written")).toHaveLength(2);
  });

  it("uses the stale copy when the endpoint fails, and never caches the error", async () => {
    h = await harness();
    await h.run(corpConfig());
    const [file] = await cachedFiles(h.cacheDir);
    const before = await fileState(file as string);

    h.server.mode = "error500";
    h.clock.now += 2 * DAY;
    const config = await h.run(corpConfig());
    expect(config.provider.corp.models?.["team/coder"]).toMatchObject({ cost: { input: 3 } });
    expect(h.events("models_info_fetch_failed_using_stale")).toMatchObject([
      { level: "warn", provider: "corp", error_code: "http_error", status: 500, ageMs: 2 * DAY },
    ]);
    expect((await fileState(file as string)).sha256).toBe(before.sha256);

    // Still stale: the next start asks again, and recovers once the endpoint does.
    h.server.mode = "ok";
    await h.run(corpConfig());
    expect(h.server.requests.map((r) => r.status)).toEqual([200, 500, 304]);
  });

  it("adds nothing when the endpoint fails and there is no copy", async () => {
    h = await harness();
    h.server.mode = "error500";
    const original = corpConfig();
    const config = await h.run(corpConfig());
    expect(config).toEqual(original);
    expect(h.events("models_info_fetch_failed_no_cache")).toMatchObject([
      { level: "error", provider: "corp", resource: "document", error_code: "http_error" },
    ]);
    expect(await cachedFiles(h.cacheDir)).toEqual([]);
  });

  it("keeps two providers on the same URL apart, and refetches over a corrupt file", async () => {
    h = await harness();
    const config = () => ({
      provider: {
        a: h.provider({ models: { "team/small": {} } }),
        b: h.provider({ models: { "team/small": { limit: { output: 1 } } } }),
      },
    });
    const first = await h.run(config());
    expect(first.provider.b.models?.["team/small"]).toMatchObject({ limit: { output: 1 } });
    const files = await cachedFiles(h.cacheDir);
    expect(files).toHaveLength(2);
    expect(h.server.count()).toBe(2);

    await writeFile(files[0] as string, "{ not json");
    const second = await h.run(config());
    expect(second.provider.a.models?.["team/small"]).toMatchObject({ limit: { output: 4096 } });
    expect(h.events("models_info_cache_unreadable")).toHaveLength(1);
    expect(h.server.count()).toBe(3);
  });
});
