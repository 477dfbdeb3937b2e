import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  confidentialClient,
  DOCUMENT_PATH,
  type FakeLlm,
  type ModelsServer,
  type OpencodeHome,
  routerModel,
  runOpencode,
  startIdp,
  startModelsServer,
  type TestIdp,
} from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  home,
  MODELS_INFO_PLUGIN,
  managedProvider,
  modelServerFor,
  OAUTH2_PLUGIN,
} from "./fixtures.js";

const DOCUMENT = {
  data: [
    routerModel(
      "demo-model",
      { name: "Demo (from the endpoint)", contextLength: 131072, maxOutput: 8192 },
      {
        pricing: { prompt: "0.0000012", completion: "0.0000036", input_cache_read: "0.0000003" },
        architecture: { input_modalities: ["text", "image"], output_modalities: ["text"] },
        supported_parameters: ["tools", "temperature", "reasoning"],
      },
    ),
  ],
};

let idp: TestIdp;
let llm: FakeLlm;
let models: ModelsServer;
const homes: OpencodeHome[] = [];

function configFor(meta: Record<string, unknown>) {
  return {
    plugin: [MODELS_INFO_PLUGIN, OAUTH2_PLUGIN], // models-info first: order must not matter
    provider: {
      corp: managedProvider(
        llm,
        {
          issuer: idp.issuer,
          clientId: "svc",
          clientSecret: "svc-secret",
          authFlow: "client_credentials",
        },
        {
          meta: {
            modelsInfoUrl: `${models.baseURL}/models-info.json`,
            modelsInfoAuth: "always",
            ...meta,
          },
        },
      ),
    },
  };
}

let lastLogs = "";

/**
 * The model's merged JSON as `opencode models --verbose` prints it. The run's log records go to
 * stderr (`--print-logs`): opencode may exit before its log file is flushed.
 */
async function shownModel(h: OpencodeHome): Promise<Record<string, unknown>> {
  const result = await runOpencode(h, ["models", "corp", "--verbose", "--print-logs"], {
    timeoutMs: 60_000,
  });
  lastLogs = result.stderr;
  expect(result.code, result.stderr).toBe(0);
  const start = result.stdout.indexOf("{");
  expect(start, result.stdout).toBeGreaterThanOrEqual(0);
  return JSON.parse(result.stdout.slice(start, result.stdout.lastIndexOf("}") + 1));
}

async function cachedDocuments(h: OpencodeHome): Promise<string[]> {
  const dir = join(h.cacheHome, "opencode-oauth2", "models-info");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
  return Promise.all(files.map((f) => readFile(join(dir, f), "utf8")));
}

beforeAll(async () => {
  idp = await startIdp({ clients: [confidentialClient("svc", "svc-secret")] });
  llm = await modelServerFor(idp);
  models = await startModelsServer({
    verify: (token) =>
      idp.verifyAccessToken(token).then(
        () => true,
        () => false,
      ),
  });
  models.setDocument(DOCUMENT);
});

afterAll(async () => {
  for (const h of homes) await h.cleanup();
  await Promise.all([models?.close(), llm?.close(), idp?.close()]);
});

describe("models-info inside the real opencode", () => {
  it("shows the endpoint's limits, costs and capabilities, caches them, revalidates, and survives failures", async () => {
    const h = await home(configFor({}));
    homes.push(h);

    // 1. First start: fetched with the shared token and merged.
    const model = await shownModel(h);
    expect(model).toMatchObject({
      limit: { context: 131072, output: 8192 },
      cost: { input: 1.2, output: 3.6, cache: { read: 0.3 } },
    });
    expect(models.count(DOCUMENT_PATH)).toBe(1);
    expect(models.requests[0]?.status).toBe(200);
    const [cachedAfterFetch] = await cachedDocuments(h);

    // 2. Second start within the TTL: no request at all.
    await shownModel(h);
    expect(models.count(DOCUMENT_PATH)).toBe(1);

    // 3. After the TTL: revalidated with the ETag, a 304, and the data not rewritten.
    await h.writeConfig(configFor({ modelsInfoTtlMs: 1 }));
    expect(await shownModel(h)).toMatchObject({ limit: { context: 131072 } });
    expect(models.requests.at(-1)).toMatchObject({ status: 304 });
    expect(models.requests.at(-1)?.ifNoneMatch).toBeTruthy();
    expect(await cachedDocuments(h)).toEqual([cachedAfterFetch]);

    // 4. The endpoint fails: the stale copy is still shown, and the log says so.
    models.mode = "error500";
    expect(await shownModel(h)).toMatchObject({ limit: { context: 131072, output: 8192 } });
    expect(models.requests.at(-1)?.status).toBe(500);
    expect(lastLogs).toContain("models_info_fetch_failed_using_stale");
    models.mode = "ok";

    // 5. The endpoint rejects the cached token: one refresh, one retry, success.
    const token = models.requests.at(-1)?.token as string;
    models.revoke(token);
    const grants = idp.countGrants("client_credentials");
    const before = models.requests.length;
    models.setDocument({
      data: [{ ...DOCUMENT.data[0], context_length: 65536, top_provider: {} }],
    });
    expect(await shownModel(h)).toMatchObject({ limit: { context: 65536 } });
    expect(models.requests.slice(before).map((r) => r.status)).toEqual([401, 200]);
    expect(idp.countGrants("client_credentials")).toBe(grants + 1);
    models.setDocument(DOCUMENT);
  }, 300_000); // opencode started five times in a row: 70 s here with other work on the 2 cores

  it("a malformed document is a named error and opencode still starts", async () => {
    models.mode = "malformed";
    try {
      const h = await home(configFor({}));
      homes.push(h);
      const model = await shownModel(h);
      // Nothing from the endpoint was merged: only what the config says.
      expect(model.name).toBe("Demo model");
      expect(lastLogs).toMatch(/models_info_(document_invalid|fetch_failed_no_cache)/);
    } finally {
      models.mode = "ok";
    }
  });
});
