import { describe, expect, it } from "vitest";
import {
  type ModelPatch,
  mergeModel,
  mergeProviderModels,
  parseModelsInfoOptions,
  resolveUrl,
  sendsToken,
} from "../src/lib.js";

const DOC: ModelPatch = {
  name: "Doc Name",
  limit: { context: 128000, output: 8192 },
  cost: { input: 3, output: 15 },
  tool_call: true,
};

const info = (entries: Record<string, ModelPatch>) => new Map(Object.entries(entries));

describe("mergeModel", () => {
  it("keeps what the user wrote, leaf by leaf, and fills the rest", () => {
    const user = { name: "Mine", limit: { context: 64000 }, options: { store: false } };
    const { model, kept, filled } = mergeModel(user, DOC, undefined);
    expect(model).toEqual({
      name: "Mine",
      limit: { context: 64000, output: 8192 },
      cost: { input: 3, output: 15 },
      tool_call: true,
      options: { store: false },
    });
    expect(kept).toEqual(["name", "limit.context"]);
    expect(filled).toEqual(["limit.output", "cost.input", "cost.output", "tool_call"]);
    // The user's object is not mutated.
    expect(user.limit).toEqual({ context: 64000 });
  });

  it("lets the document win for the fields in the overwrite list", () => {
    const user = {
      name: "Mine",
      limit: { context: 64000, output: 1000 },
      cost: { input: 1, output: 2 },
    };
    expect(mergeModel(user, DOC, ["limit"]).model).toMatchObject({
      name: "Mine",
      limit: { context: 128000, output: 8192 },
      cost: { input: 1, output: 2 },
    });
    expect(mergeModel(user, DOC, ["limit.output", "cost"]).model).toMatchObject({
      limit: { context: 64000, output: 8192 },
      cost: { input: 3, output: 15 },
    });
    expect(mergeModel(user, DOC, true).model).toMatchObject({ name: "Doc Name" });
  });

  it("never turns a user's false into the document's true", () => {
    expect(mergeModel({ tool_call: false }, DOC, undefined).model.tool_call).toBe(false);
  });
});

describe("mergeProviderModels", () => {
  it("updates config models only, by their id field when they have one", () => {
    const models: Record<string, unknown> = {
      coder: { id: "team/coder" },
      other: { name: "Other" },
    };
    const result = mergeProviderModels({
      models,
      info: info({ "team/coder": DOC, "team/extra": { name: "Extra" } }),
      overwrite: undefined,
      addModels: false,
    });
    expect(Object.keys(models)).toEqual(["coder", "other"]);
    expect(models.coder).toMatchObject({ id: "team/coder", limit: { context: 128000 } });
    expect(result).toEqual({ updated: ["coder"], added: [], notListed: ["other"], kept: 0 });
  });

  it("adds the document's other models only when addModels is on", () => {
    const models: Record<string, unknown> = { "team/coder": {} };
    const result = mergeProviderModels({
      models,
      info: info({ "team/coder": DOC, "team/extra": { name: "Extra" } }),
      overwrite: undefined,
      addModels: true,
    });
    expect(result.added).toEqual(["team/extra"]);
    expect(models["team/extra"]).toEqual({ name: "Extra" });
  });

  it("adds discovered models (with document data where there is some) to an empty provider", () => {
    const models: Record<string, unknown> = {};
    const result = mergeProviderModels({
      models,
      info: info({ "team/coder": DOC, "team/hidden": { name: "Hidden" } }),
      overwrite: undefined,
      addModels: false,
      discovered: ["team/coder", "team/bare"],
    });
    expect(result.added).toEqual(["team/coder", "team/bare"]);
    expect(models).toEqual({ "team/coder": DOC, "team/bare": {} });
  });
});

describe("options", () => {
  it("applies defaults and reports typos and bad values with where to fix them", () => {
    const ok = parseModelsInfoOptions("corp", { modelsInfoUrl: "models-info.json", other: 1 });
    expect(ok).toEqual({
      options: {
        modelsInfoUrl: "models-info.json",
        modelsInfoAddModels: false,
        modelsInfoTtlMs: 86_400_000,
        modelsInfoAuth: "same-origin",
      },
    });
    const bad = parseModelsInfoOptions("corp", {
      modelsInfoUrl: "x",
      modelsInfoTTL: 5,
      modelsInfoOverwrite: ["limits"],
    });
    expect("issues" in bad && bad.issues.map((i) => i.location)).toEqual([
      "provider.corp.options.meta.modelsInfoTTL",
      "provider.corp.options.meta.modelsInfoOverwrite",
    ]);
    expect("issues" in bad && bad.issues[1]?.expected).toMatch(/fields among name, limit, cost/);
  });

  it("resolves a relative URL against baseURL as a directory", () => {
    const base = "https://llm.example.com/v1";
    expect(resolveUrl("models-info.json", base)).toBe(
      "https://llm.example.com/v1/models-info.json",
    );
    expect(resolveUrl("models-info.json", `${base}/`)).toBe(
      "https://llm.example.com/v1/models-info.json",
    );
    expect(resolveUrl("/catalog.json", base)).toBe("https://llm.example.com/catalog.json");
    expect(resolveUrl("https://cdn.example.com/m.json", base)).toBe(
      "https://cdn.example.com/m.json",
    );
    expect(() => resolveUrl("models-info.json", undefined)).toThrow(/no absolute options.baseURL/);
    expect(() => resolveUrl("file:///etc/passwd", base)).toThrow(/not an http/);
  });

  it("sends the token to the provider's own origin only, unless told otherwise", () => {
    const base = "https://llm.example.com/v1";
    expect(sendsToken("same-origin", "https://llm.example.com/meta.json", base)).toBe(true);
    expect(sendsToken("same-origin", "https://openrouter.ai/api/v1/models", base)).toBe(false);
    expect(sendsToken("always", "https://cdn.example.com/m.json", base)).toBe(true);
    expect(sendsToken("never", "https://llm.example.com/meta.json", base)).toBe(false);
  });
});
