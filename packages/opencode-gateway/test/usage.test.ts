import { describe, expect, it } from "vitest";
import { readFacts, withIncludeUsage } from "../src/v1/json-body.js";
import { JsonUsageReader, MAX_JSON_ANSWER_BYTES, SseUsageTap } from "../src/v1/usage.js";

/**
 * Reading `usage` from answers as they pass, and asking a stream for it: the byte-level cases an
 * upstream can produce (events split anywhere across chunks, CRLF line ends) and the bodies a
 * client can send.
 */

const event = (payload: object, eol = "\n") => `data: ${JSON.stringify(payload)}${eol}${eol}`;
const usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };
const words = ["Hel", "lo ", "there"].map((w) => event({ choices: [{ delta: { content: w } }] }));
const usageEvent = event({ choices: [], usage });
const stream = [...words, usageEvent, "data: [DONE]\n\n"].join("");

/** Feeds `text` to a tap in chunks of `size` bytes; returns what came out. */
function feed(tap: SseUsageTap, text: string, size: number): string {
  const bytes = Buffer.from(text);
  let out = "";
  for (let at = 0; at < bytes.length; at += size) {
    out += tap.look(bytes.subarray(at, at + size))?.toString() ?? "";
  }
  return out;
}

describe("the SSE usage tap", () => {
  it.each([1, 7, 64, 4096])("reads the usage and passes every byte on (chunks of %i)", (size) => {
    const tap = new SseUsageTap(false);
    expect(feed(tap, stream, size)).toBe(stream);
    expect(tap.usage).toEqual({ promptTokens: 7, completionTokens: 3, totalTokens: 10 });
  });

  it.each([1, 7, 64, 4096])(
    "with strip, leaves out only the usage-only event (chunks of %i)",
    (size) => {
      const tap = new SseUsageTap(true);
      expect(feed(tap, stream, size)).toBe(stream.replace(usageEvent, ""));
      expect(tap.usage?.totalTokens).toBe(10);
    },
  );

  it("reads events with CRLF line ends, and keeps a usage that rides on a content chunk", () => {
    const crlf = [
      event({ choices: [{ delta: { content: "x" } }], usage }, "\r\n"),
      "data: [DONE]\r\n\r\n",
    ].join("");
    const tap = new SseUsageTap(true);
    expect(feed(tap, crlf, 5)).toBe(crlf);
    expect(tap.usage?.promptTokens).toBe(7);
  });

  it("reports no usage when there is none", () => {
    const tap = new SseUsageTap(false);
    feed(tap, [...words, "data: [DONE]\n\n"].join(""), 9);
    expect(tap.usage).toBeUndefined();
  });
});

describe("the JSON usage reader", () => {
  it("reads usage from a completion split across chunks", () => {
    const reader = new JsonUsageReader();
    const body = Buffer.from(JSON.stringify({ id: "x", choices: [], usage }));
    reader.add(body.subarray(0, 10));
    reader.add(body.subarray(10));
    expect(reader.usage()).toEqual({ promptTokens: 7, completionTokens: 3, totalTokens: 10 });
  });

  it("gives up on an answer larger than it holds", () => {
    const reader = new JsonUsageReader();
    reader.add(Buffer.from(`{"pad":"${"x".repeat(MAX_JSON_ANSWER_BYTES)}",`));
    reader.add(Buffer.from(`"usage":${JSON.stringify(usage)}}`));
    expect(reader.usage()).toBeUndefined();
  });
});

describe("asking a stream for its usage", () => {
  it("splices the field in before the closing brace, whitespace and all", () => {
    const body = Buffer.from('{ "model": "m", "stream": true }\n');
    expect(withIncludeUsage(body, readFacts(body)).toString()).toBe(
      '{ "model": "m", "stream": true ,"stream_options":{"include_usage":true}}\n',
    );
  });

  it("reads the last of duplicate keys, as the upstream's JSON parser does", () => {
    const facts = readFacts(Buffer.from('{"model":"allowed","stream":true,"model":"other"}'));
    expect(facts).toMatchObject({ model: "other", stream: true, includeUsage: false });
  });

  it("finds no model in a body that is not a JSON object", () => {
    expect(readFacts(Buffer.from('["model"]')).model).toBeUndefined();
    expect(readFacts(Buffer.from('{"model":"m"')).model).toBeUndefined();
  });
});
