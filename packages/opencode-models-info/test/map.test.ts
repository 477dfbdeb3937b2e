import { describe, expect, it } from "vitest";
import { parseModelsDocument, perMillion, toModalities, toOpencodeModel } from "../src/lib.js";

const mapOne = (raw: Record<string, unknown>) => {
  const { items } = parseModelsDocument([{ id: "m", ...raw }]);
  if (!items[0]) throw new Error("entry did not parse");
  return toOpencodeModel(items[0]);
};

describe("toOpencodeModel", () => {
  it("converts USD per token into USD per million tokens, without float noise", () => {
    const patch = mapOne({
      pricing: {
        prompt: "0.000003",
        completion: "0.000015",
        input_cache_read: "0.0000003",
        input_cache_write: 0.00000375,
      },
    });
    expect(patch.cost).toEqual({ input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 });
    expect(perMillion(0.00000015)).toBe(0.15);
    expect(perMillion(0)).toBe(0);
  });

  it("leaves unknown and 'priced elsewhere' (-1) prices out rather than inventing zeros", () => {
    expect(mapOne({ pricing: { prompt: "-1", completion: "-1" } }).cost).toBeUndefined();
    expect(mapOne({ pricing: { prompt: "0.000001" } }).cost).toEqual({ input: 1 });
    expect(mapOne({}).cost).toBeUndefined();
  });

  it("takes limits from top_provider, falling back to context_length", () => {
    expect(
      mapOne({
        context_length: 200000,
        top_provider: { context_length: 128000, max_completion_tokens: 8192 },
      }).limit,
    ).toEqual({ context: 128000, output: 8192 });
    expect(
      mapOne({ context_length: 200000, top_provider: { context_length: null } }).limit,
    ).toEqual({ context: 200000 });
    // 0 means "unknown" to opencode; it is not sent.
    expect(mapOne({ context_length: 0 }).limit).toBeUndefined();
  });

  it("keeps only the modalities opencode accepts, mapping OpenRouter's 'file' to pdf", () => {
    const patch = mapOne({
      architecture: {
        input_modalities: ["text", "Image", "file", "embeddings", "image"],
        output_modalities: ["text", "embeddings"],
      },
    });
    expect(patch.modalities).toEqual({ input: ["text", "image", "pdf"], output: ["text"] });
    expect(toModalities(["audio", "video", "3d"])).toEqual(["audio", "video"]);
  });

  it("sets attachment when any input modality is not text", () => {
    const of = (input: string[]) =>
      mapOne({ architecture: { input_modalities: input } }).attachment;
    expect(of(["text"])).toBe(false);
    expect(of(["text", "image"])).toBe(true);
    expect(of(["text", "file"])).toBe(true);
    expect(of(["text", "hologram"])).toBe(false);
    expect(mapOne({}).attachment).toBeUndefined();
  });

  it("derives capabilities from supported_parameters", () => {
    expect(mapOne({ supported_parameters: ["tools", "temperature", "reasoning"] })).toMatchObject({
      tool_call: true,
      temperature: true,
      reasoning: true,
    });
    expect(mapOne({ supported_parameters: ["include_reasoning"] })).toMatchObject({
      tool_call: false,
      temperature: false,
      reasoning: true,
    });
    // No list: nothing is claimed either way.
    const none = mapOne({ name: "  " });
    expect(none).toEqual({});
  });

  it("maps a full OpenRouter entry onto opencode's field names", () => {
    expect(
      mapOne({
        name: "Team Coder",
        context_length: 131072,
        top_provider: { max_completion_tokens: 16384 },
        pricing: { prompt: "0.000002", completion: "0.000008" },
        architecture: { input_modalities: ["text", "image"], output_modalities: ["text"] },
        supported_parameters: ["tools", "temperature"],
      }),
    ).toEqual({
      name: "Team Coder",
      limit: { context: 131072, output: 16384 },
      cost: { input: 2, output: 8 },
      modalities: { input: ["text", "image"], output: ["text"] },
      attachment: true,
      tool_call: true,
      reasoning: false,
      temperature: true,
    });
  });
});
