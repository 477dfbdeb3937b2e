import { describe, expect, it } from "vitest";
import { isModelsInfoError, parseModelList, parseModelsDocument } from "../src/lib.js";

const entry = (id: string, extra: Record<string, unknown> = {}) => ({ id, ...extra });

function documentError(body: unknown) {
  try {
    parseModelsDocument(body);
  } catch (err) {
    if (isModelsInfoError(err)) return err;
    throw err;
  }
  throw new Error("expected the document to be refused");
}

describe("parseModelsDocument", () => {
  it("accepts the { data: [...] } wrapper and a bare array alike", () => {
    const wrapped = parseModelsDocument({ data: [entry("a"), entry("b")] });
    const bare = parseModelsDocument([entry("a"), entry("b")]);
    expect(wrapped.items.map((m) => m.id)).toEqual(["a", "b"]);
    expect(bare).toEqual(wrapped);
  });

  it("reads prices and token counts given as strings or numbers", () => {
    const { items } = parseModelsDocument([
      entry("s", {
        context_length: "8192",
        pricing: { prompt: "0.000003", completion: " 0.000015 ", input_cache_read: "0" },
      }),
      entry("n", { context_length: 8192, pricing: { prompt: 0.000003, completion: 0.000015 } }),
    ]);
    expect(items[0]?.pricing).toEqual({
      prompt: 0.000003,
      completion: 0.000015,
      input_cache_read: 0,
    });
    expect(items[0]?.context_length).toBe(8192);
    expect(items[1]?.pricing).toEqual({ prompt: 0.000003, completion: 0.000015 });
  });

  it("accepts OpenRouter's nulls and ignores fields it does not map", () => {
    const { items, skipped } = parseModelsDocument({
      data: [
        entry("x", {
          canonical_slug: "x-2025",
          description: "…",
          top_provider: { context_length: null, max_completion_tokens: null, is_moderated: true },
          per_request_limits: null,
          pricing: { prompt: "0.000001", completion: "0.000002", request: "0", image: "0" },
        }),
      ],
    });
    expect(skipped).toEqual([]);
    expect(items[0]).not.toHaveProperty("description");
    expect(items[0]?.top_provider).toEqual({ context_length: null, max_completion_tokens: null });
  });

  it("skips a bad entry, says which and why, and keeps the rest", () => {
    const { items, skipped } = parseModelsDocument({
      data: [
        entry("good-1"),
        entry("bad-price", { pricing: { prompt: "free" } }),
        { name: "no id" },
        entry("bad-count", { context_length: -5 }),
        entry("good-1"),
        entry("good-2", { supported_parameters: ["tools"] }),
      ],
    });
    expect(items.map((m) => m.id)).toEqual(["good-1", "good-2"]);
    expect(skipped.map((s) => [s.index, s.id])).toEqual([
      [1, "bad-price"],
      [2, undefined],
      [3, "bad-count"],
      [4, "good-1"],
    ]);
    expect(skipped[0]?.issues).toMatch(/^pricing\.prompt: expected a number, got "free"/);
    expect(skipped[1]?.issues).toMatch(/^id: /);
    expect(skipped[2]?.issues).toMatch(/context_length: .*non-negative whole number/);
    expect(skipped[3]?.issues).toMatch(/duplicate/);
  });

  it("refuses a document that is not a model list at all, with a named error", () => {
    for (const body of [{ models: [] }, "nope", null, 42, { data: {} }]) {
      expect(documentError(body).code).toBe("document_invalid");
    }
  });

  it("refuses a list whose every entry is invalid (it must not replace a good copy)", () => {
    const err = documentError([{ id: 1 }, { name: "x" }]);
    expect(err.code).toBe("document_invalid");
    expect(err.message).toMatch(/none of the 2 entries/);
    // An empty list is a valid (empty) catalogue.
    expect(parseModelsDocument({ data: [] }).items).toEqual([]);
  });
});

describe("parseModelList", () => {
  it("reads the ids of an OpenAI model list, wrapped or bare", () => {
    expect(
      parseModelList({ object: "list", data: [{ id: "a", object: "model" }, { id: "b" }] }).items,
    ).toEqual(["a", "b"]);
    const bare = parseModelList([{ id: "a" }, { id: "" }]);
    expect(bare.items).toEqual(["a"]);
    expect(bare.skipped).toHaveLength(1);
  });
});
