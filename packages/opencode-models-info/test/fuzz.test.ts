// Property-based fuzzing of everything that reads what a models endpoint (or a user's config)
// hands the plugin: the body → JSON → document → opencode model fields chain, the model list,
// the `meta` options and the merge. Each answers with a value or a typed ModelsInfoError, never
// another exception; what it accepts is always something opencode can use.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, TokenEngine } from "@vymalo/oauth2-core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODELS_INFO_EVENTS } from "../src/events.js";
import {
  applyModelsInfo,
  fetchJson,
  isModelsInfoError,
  MODEL_FIELD_PATHS,
  type ModelPatch,
  ModelsInfoCache,
  mergeProviderModels,
  OPENCODE_MODALITIES,
  parseModelList,
  parseModelsDocument,
  parseModelsInfoOptions,
  toOpencodeModel,
} from "../src/lib.js";

const MAX_TIMER_MS = 2 ** 31 - 1;

const oddKey = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.constantFrom("__proto__", "constructor", "toString", "id", "data", "pricing", "limit", ""),
);
const anyValue = fc.anything({
  key: oddKey,
  maxDepth: 4,
  maxKeys: 6,
  withNullPrototype: true,
  withObjectString: true,
  withBoxedValues: true,
  withSparseArray: true,
  withUnicodeString: true,
});

/** Values OpenRouter-like documents really carry, and the ways they go wrong. */
const numericish = fc.oneof(
  fc.double(),
  fc.integer({ min: -5, max: 2_000_000 }),
  fc.constantFrom("0.000003", " 0.000015 ", "-1", "0", "", "1e-6", "abc", "Infinity", "0x10"),
  fc.constantFrom(null, true, [], {}, 1e308, -0, Number.MAX_SAFE_INTEGER + 2),
);
const modalities = fc.oneof(
  fc.array(
    fc.oneof(
      fc.constantFrom("text", "image", "file", "audio", "video", "pdf", "TEXT", " Image "),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 5 },
  ),
  fc.constantFrom(null, "text", 3),
);
const plausibleEntry = fc.record(
  {
    id: fc.oneof(
      fc.constantFrom("team/coder", "team/small", "a", "", " "),
      fc.string({ maxLength: 8 }),
      fc.constantFrom(null, 7),
    ),
    name: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(null, "  ", 5)),
    context_length: numericish,
    top_provider: fc.oneof(
      fc.record(
        { context_length: numericish, max_completion_tokens: numericish },
        { requiredKeys: [] },
      ),
      fc.constantFrom(null, "x"),
    ),
    pricing: fc.oneof(
      fc.record(
        {
          prompt: numericish,
          completion: numericish,
          input_cache_read: numericish,
          input_cache_write: numericish,
          request: numericish,
        },
        { requiredKeys: [] },
      ),
      fc.constantFrom(null, "free"),
    ),
    architecture: fc.oneof(
      fc.record(
        { input_modalities: modalities, output_modalities: modalities },
        { requiredKeys: [] },
      ),
      fc.constant(null),
    ),
    supported_parameters: fc.oneof(
      fc.array(
        fc.constantFrom("tools", "temperature", "reasoning", "include_reasoning", "top_p", ""),
        { maxLength: 5 },
      ),
      fc.constantFrom(null, "tools"),
    ),
  },
  { requiredKeys: ["id"] },
);
const plausibleDocument = fc.oneof(
  fc.record({ data: fc.array(fc.oneof(plausibleEntry, anyValue), { maxLength: 6 }) }),
  fc.array(plausibleEntry, { maxLength: 6 }),
  fc.record({ data: anyValue }, { requiredKeys: [] }),
  anyValue,
);

function expectPatch(patch: ModelPatch): void {
  if (patch.name !== undefined) {
    expect(patch.name.length).toBeGreaterThan(0);
    expect(patch.name.trim()).toBe(patch.name);
  }
  for (const value of [patch.limit?.context, patch.limit?.output]) {
    if (value === undefined) continue;
    expect(Number.isInteger(value)).toBe(true);
    expect(value).toBeGreaterThan(0);
  }
  for (const value of Object.values(patch.cost ?? {})) {
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThanOrEqual(0);
  }
  for (const list of [patch.modalities?.input, patch.modalities?.output]) {
    for (const m of list ?? []) expect(OPENCODE_MODALITIES).toContain(m);
    if (list) expect(new Set(list).size).toBe(list.length);
  }
  for (const flag of [patch.tool_call, patch.reasoning, patch.temperature, patch.attachment]) {
    if (flag !== undefined) expect(typeof flag).toBe("boolean");
  }
  // Nothing else: a patch only ever carries fields opencode's model config has.
  const allowed = new Set(MODEL_FIELD_PATHS.map((p) => p.split(".")[0]));
  for (const key of Object.keys(patch)) expect(allowed.has(key), key).toBe(true);
}

/** Body → models, as the plugin does it; a wrong document may only fail as document_invalid. */
function checkDocument(body: unknown): void {
  let parsed: ReturnType<typeof parseModelsDocument>;
  try {
    parsed = parseModelsDocument(body);
  } catch (err) {
    expect(isModelsInfoError(err), String(err)).toBe(true);
    if (isModelsInfoError(err)) expect(err.code).toBe("document_invalid");
    return;
  }
  const ids = parsed.items.map((m) => m.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const item of parsed.items) {
    expect(item.id.length).toBeGreaterThan(0);
    expectPatch(toOpencodeModel(item));
  }
  for (const skipped of parsed.skipped) {
    expect(Number.isInteger(skipped.index)).toBe(true);
    expect(typeof skipped.issues).toBe("string");
    expect(skipped.issues.length).toBeGreaterThan(0);
  }
  // Every entry present (JSON has no holes; a sparse array's holes are not entries) is counted.
  const raw = Array.isArray(body) ? body : (body as { data: unknown[] }).data;
  const present = raw.reduce<number>((n) => n + 1, 0);
  expect(parsed.items.length + parsed.skipped.length).toBe(present);
}

describe("fuzz: the models document", () => {
  it("parseModelsDocument + toOpencodeModel: models or document_invalid, for any value", () => {
    fc.assert(
      fc.property(anyValue, (body) => checkDocument(body)),
      { numRuns: 500 },
    );
  });

  it("plausible-but-wrong OpenRouter documents: each entry is used or skipped with a reason", () => {
    fc.assert(
      fc.property(plausibleDocument, (body) => checkDocument(body)),
      {
        numRuns: 800,
        // Found by this property: the price became Infinity in opencode's model config.
        examples: [[{ data: [{ id: "a", pricing: { completion: 1e308 } }] }]],
      },
    );
  });

  it("the generator is not all noise: some entries are used, some skipped", () => {
    let used = 0;
    let skipped = 0;
    fc.assert(
      fc.property(fc.array(plausibleEntry, { minLength: 1, maxLength: 4 }), (data) => {
        try {
          const parsed = parseModelsDocument({ data });
          used += parsed.items.length;
          skipped += parsed.skipped.length;
        } catch {
          skipped += data.length;
        }
      }),
      { numRuns: 200, seed: 7 },
    );
    expect(used).toBeGreaterThan(20);
    expect(skipped).toBeGreaterThan(20);
  });

  it("any response text: fetchJson + the parser give models or a typed error", async () => {
    const text = fc.oneof(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      plausibleDocument.map((v) => JSON.stringify(v) ?? "null"),
      fc.constantFrom('{"data": [ {"id": "a"', "<html>login</html>", "", "\uFEFF[]", "null"),
    );
    await fc.assert(
      fc.asyncProperty(text, async (body) => {
        const controller = new AbortController();
        let result: Awaited<ReturnType<typeof fetchJson>>;
        try {
          result = await fetchJson({
            url: "http://127.0.0.1:1/v1/models-info.json",
            // The response object is real; only the transport is skipped.
            fetch: async () => new Response(body, { status: 200 }),
            signal: controller.signal,
          });
        } catch (err) {
          expect(isModelsInfoError(err), String(err)).toBe(true);
          if (isModelsInfoError(err)) expect(err.code).toBe("document_invalid");
          return;
        }
        expect(result.status).toBe("ok");
        if (result.status === "ok") checkDocument(result.body);
      }),
      { numRuns: 300 },
    );
  });

  it("parseModelList: ids or document_invalid, for any value", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyValue,
          fc.record({ data: fc.array(fc.oneof(fc.record({ id: anyValue }), anyValue)) }),
        ),
        (body) => {
          try {
            const { items } = parseModelList(body);
            for (const id of items) expect(typeof id === "string" && id.length > 0).toBe(true);
            expect(new Set(items).size).toBe(items.length);
          } catch (err) {
            expect(isModelsInfoError(err), String(err)).toBe(true);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("fuzz: options and merge", () => {
  const metaValue = fc.oneof(
    fc.constantFrom("models-info.json", "https://llm.example.com/m.json", "", "/x.json"),
    fc.constantFrom(true, false, ["limit", "cost.input"], ["nope"], [], "limit"),
    fc.constantFrom(0, -1, 99, 100, 86_400_000, 2 ** 31, 5e9, 1.5, "5000", null),
    fc.constantFrom("same-origin", "always", "never", "sometimes"),
    anyValue,
  );
  const meta = fc.dictionary(
    fc.oneof(
      fc.constantFrom(
        "modelsInfoUrl",
        "modelsInfoOverwrite",
        "modelsInfoAddModels",
        "modelsInfoTtlMs",
        "modelsInfoTimeoutMs",
        "modelsInfoAuth",
        "modelsInfoURL",
        "modelsInfoTTL",
      ),
      oddKey,
    ),
    metaValue,
    { maxKeys: 6 },
  );

  it("parseModelsInfoOptions: options a start can use, or issues that say where", () => {
    fc.assert(
      fc.property(oddKey, meta, (id, raw) => {
        const parsed = parseModelsInfoOptions(id, raw);
        if ("issues" in parsed) {
          expect(parsed.issues.length).toBeGreaterThan(0);
          for (const issue of parsed.issues) {
            expect(issue.location.startsWith(`provider.${id}.options.meta`)).toBe(true);
            expect(issue.fix.length).toBeGreaterThan(0);
          }
          return;
        }
        const { options } = parsed;
        expect(options.modelsInfoUrl.length).toBeGreaterThan(0);
        expect(Number.isSafeInteger(options.modelsInfoTtlMs)).toBe(true);
        expect(options.modelsInfoTtlMs).toBeGreaterThanOrEqual(0);
        if (options.modelsInfoTimeoutMs !== undefined) {
          // It becomes a setTimeout: longer than Node's timers allow would fire after 1 ms.
          expect(Number.isInteger(options.modelsInfoTimeoutMs)).toBe(true);
          expect(options.modelsInfoTimeoutMs).toBeGreaterThanOrEqual(100);
          expect(options.modelsInfoTimeoutMs).toBeLessThanOrEqual(MAX_TIMER_MS);
        }
      }),
      {
        numRuns: 600,
        // Found by this property: accepted, then the start's deadline fired after 1 ms.
        examples: [["corp", { modelsInfoUrl: "m.json", modelsInfoTimeoutMs: 5e9 }]],
      },
    );
  });

  it("mergeProviderModels: any user models, any patches, no exception and a consistent report", () => {
    const patch = fc.record(
      {
        name: fc.string({ minLength: 1, maxLength: 6 }),
        limit: fc.record(
          { context: fc.integer({ min: 1 }), output: fc.integer({ min: 1 }) },
          { requiredKeys: [] },
        ),
        cost: fc.record({ input: fc.double({ min: 0, noNaN: true }) }, { requiredKeys: [] }),
        tool_call: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.dictionary(oddKey, anyValue, { maxKeys: 5 }),
        fc.array(fc.tuple(oddKey, patch), { maxLength: 5 }),
        fc.oneof(
          fc.constant(true),
          fc.constant(undefined),
          fc.subarray([...MODEL_FIELD_PATHS, "limit", "cost"]),
        ),
        fc.boolean(),
        fc.option(fc.array(oddKey, { maxLength: 4 }), { nil: undefined }),
        (models, patches, overwrite, addModels, discovered) => {
          const before = new Set(Object.keys(models));
          const result = mergeProviderModels({
            models,
            info: new Map(patches),
            overwrite,
            addModels,
            discovered,
          });
          for (const key of result.updated) expect(before.has(key)).toBe(true);
          for (const key of result.added) {
            expect(before.has(key)).toBe(false);
            expect(Object.hasOwn(models, key)).toBe(true);
          }
          expect(new Set(result.added).size).toBe(result.added.length);
          expect(result.kept).toBeGreaterThanOrEqual(0);
        },
      ),
      {
        numRuns: 500,
        // Found by this property: an endpoint's model id "__proto__" replaced the prototype of
        // the user's models object instead of adding a model.
        examples: [
          [{}, [["__proto__", { name: "x" }]], undefined, true, undefined],
          [{}, [], undefined, false, ["__proto__"]],
        ],
      },
    );
  });
});

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** What opencode's config schema guarantees about the parts of a provider the hook reads. */
function shapedAsOpencodeValidates(entry: unknown): boolean {
  if (!isRecord(entry)) return false;
  const { options, models } = entry;
  if (models !== undefined && !isRecord(models)) return false;
  if (options === undefined) return true;
  if (!isRecord(options)) return false;
  if (options.baseURL !== undefined && typeof options.baseURL !== "string") return false;
  return options.meta === undefined || isRecord(options.meta);
}

describe("fuzz: the whole config hook", () => {
  let cacheDir: string;
  let engine: TokenEngine;
  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "models-info-fuzz-"));
    // No network: the IdP is refused at the socket, the way an unreachable IdP is.
    engine = new TokenEngine({
      cacheDir,
      fetch: async () => {
        throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
      },
    });
  });
  afterAll(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it("applyModelsInfo never throws, whatever the providers and whatever the endpoint answers", async () => {
    const meta = fc.record({
      modelsInfoUrl: fc.constantFrom("models-info.json", "models", "ftp://x", "a b"),
      modelsInfoAuth: fc.constantFrom("same-origin", "always", "never"),
      modelsInfoTtlMs: fc.constant(0),
    });
    const oauth2 = fc.constant({
      issuer: "http://127.0.0.1:9",
      clientId: "svc",
      clientSecret: "s",
      authFlow: "client_credentials",
    });
    const models = fc.oneof(fc.dictionary(oddKey, anyValue, { maxKeys: 3 }), anyValue);
    const provider = fc.oneof(
      // Mostly the shapes users write: these reach the endpoint (or the IdP) and merge.
      {
        weight: 3,
        arbitrary: fc.record(
          {
            options: fc.record(
              { baseURL: fc.constant("http://127.0.0.1:9/v1"), oauth2, meta },
              { requiredKeys: ["baseURL", "meta"] },
            ),
            models,
          },
          { requiredKeys: ["options"] },
        ),
      },
      // Then anything in any slot.
      {
        weight: 1,
        arbitrary: fc.record(
          {
            options: fc.oneof(
              fc.record(
                {
                  baseURL: fc.constantFrom("http://127.0.0.1:9/v1", "not a url", "", 5),
                  oauth2: fc.oneof(oauth2, anyValue),
                  meta: fc.oneof(meta, anyValue),
                },
                { requiredKeys: [] },
              ),
              anyValue,
            ),
            models,
          },
          { requiredKeys: [] },
        ),
      },
    );
    const answer = fc.record({
      status: fc.constantFrom(200, 200, 200, 304, 401, 404, 500),
      body: fc.oneof(
        plausibleDocument.map((v) => JSON.stringify(v) ?? "null"),
        fc.string({ maxLength: 40 }),
      ),
    });
    let fetched = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          oddKey,
          fc.oneof({ weight: 4, arbitrary: provider }, { weight: 1, arbitrary: anyValue }),
          { maxKeys: 3 },
        ),
        answer,
        async (providers, reply) => {
          const records: unknown[] = [];
          const logger = createLogger({
            sink: (r) => records.push(r),
            level: "debug",
            events: MODELS_INFO_EVENTS,
          });
          const config = { provider: providers, plugin: [] };
          const reports = await applyModelsInfo(config as never, {
            engine,
            cache: new ModelsInfoCache({ dir: join(cacheDir, "models-info"), logger }),
            fetch: async () => {
              fetched += 1;
              return new Response(reply.status === 304 ? null : reply.body, {
                status: reply.status,
              });
            },
            now: Date.now,
            logger,
          });
          expect(typeof reports).toBe("object");
          // "Something unexpected" must never happen for providers shaped as opencode's own
          // config schema guarantees (it validates before any hook runs). Beyond that, the
          // hook only has to contain the damage, which it did by returning.
          if (Object.values(providers).every(shapedAsOpencodeValidates)) {
            const failed = records.filter(
              (r) => (r as { event: string }).event === "models_info_failed",
            );
            expect(failed).toEqual([]);
          }
        },
      ),
      { numRuns: 150 },
    );
    // Some runs really reached the endpoint (the generator is not all skipped providers).
    expect(fetched).toBeGreaterThan(10);
  });

  it("a provider without oauth2 gets its document, without a token, whatever its id", async () => {
    const document = JSON.stringify({ data: [{ id: "demo", context_length: 4096 }] });
    await fc.assert(
      fc.asyncProperty(oddKey, async (id) => {
        const logger = createLogger({ level: "debug", events: MODELS_INFO_EVENTS });
        const sent: Array<string | null> = [];
        // JSON.parse, as opencode reads it: even "__proto__" is an own key.
        const config = JSON.parse(
          JSON.stringify({
            provider: {
              [id]: {
                options: {
                  baseURL: "http://127.0.0.1:9/v1",
                  meta: { modelsInfoUrl: "models-info.json", modelsInfoTtlMs: 0 },
                },
                models: { demo: {} },
              },
            },
          }),
        );
        const reports = await applyModelsInfo(config, {
          engine,
          cache: new ModelsInfoCache({ dir: join(cacheDir, "by-id"), logger }),
          fetch: async (_url, init) => {
            sent.push(new Headers(init?.headers).get("authorization"));
            return new Response(document, { status: 200 });
          },
          now: Date.now,
          logger,
        });
        expect(sent).toEqual([null]);
        expect(reports[id]?.document).toBe("network");
        expect(config.provider[id].models.demo).toMatchObject({ limit: { context: 4096 } });
      }),
      {
        numRuns: 100,
        // Found by the property above: "constructor" was taken for an oauth2-managed provider
        // (an inherited member of the providers object), so no request was ever made.
        examples: [["constructor"], ["toString"], ["__proto__"]],
      },
    );
  });
});
