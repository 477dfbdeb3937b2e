import { parseModelsDocument, toOpencodeModel } from "@vymalo/opencode-models-info/lib";
import { beforeAll, describe, expect, it } from "vitest";
import { formatPrice } from "../src/models-info.js";
import {
  CLI_CLIENT,
  cliToken,
  type RunningGateway,
  startGateway,
  testConfig,
} from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll } from "./fixtures/lifecycle.js";

/**
 * `GET /v1/models-info`: the OpenRouter `/models` shape built from the config, read here by the
 * opencode-models-info plugin's own parser and mapper; bearer-protected; ETag/304, with the same
 * ETag on every instance built from the same config.
 */

let idp: IssuerStub;
let gw: RunningGateway;
let second: RunningGateway;
let token: string;

beforeAll(async () => {
  idp = await startIssuerStub();
  const config = testConfig(idp.issuer, { demo: true });
  gw = await startGateway(config);
  second = await startGateway(config);
  token = await cliToken(idp, "bob");
});
closeAfterAll(() => ({ gateways: [gw, second], idp }));

const get = (base: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/v1/models-info`, { headers: { authorization: `Bearer ${token}`, ...headers } });

describe("GET /v1/models-info", () => {
  it("serves the OpenRouter shape that the models-info plugin maps", async () => {
    const response = await get(gw.url);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: Record<string, unknown>[] };
    expect(body.data[0]).toMatchObject({
      id: "team/coder",
      name: "Team Coder",
      context_length: 131072,
      architecture: {
        modality: "text+image+file->text",
        input_modalities: ["text", "image", "file"],
        output_modalities: ["text"],
      },
      pricing: { prompt: "0.000003", completion: "0.000015", input_cache_read: "0.0000003" },
      top_provider: { context_length: 131072, max_completion_tokens: 16384 },
      supported_parameters: ["tools", "temperature", "include_reasoning"],
    });

    const parsed = parseModelsDocument(body);
    expect(parsed.skipped).toEqual([]);
    expect(parsed.items.map((m) => m.id)).toEqual(["team/coder", "team/small"]);
    expect(toOpencodeModel(parsed.items[0] as (typeof parsed.items)[number])).toEqual({
      name: "Team Coder",
      limit: { context: 131072, output: 16384 },
      cost: { input: 3, output: 15, cache_read: 0.3 },
      modalities: { input: ["text", "image", "pdf"], output: ["text"] },
      attachment: true,
      tool_call: true,
      reasoning: true,
      temperature: true,
    });
    expect(toOpencodeModel(parsed.items[1] as (typeof parsed.items)[number])).toMatchObject({
      name: "team/small",
      limit: { context: 16000 },
    });
  });

  it("is bearer-protected", async () => {
    const response = await fetch(`${gw.url}/v1/models-info`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
    const wrongAud = await idp.sign({ iss: idp.issuer, aud: "urn:other", azp: CLI_CLIENT });
    const refused = await fetch(`${gw.url}/v1/models-info`, {
      headers: { authorization: `Bearer ${wrongAud}` },
    });
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain("team/coder");
  });

  it("answers 304 to a matching If-None-Match, in any of its forms", async () => {
    const first = await get(gw.url);
    const etag = first.headers.get("etag") as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get("cache-control")).toBe("private, no-cache");
    expect(first.headers.get("vary")).toMatch(/authorization/i);
    for (const ifNoneMatch of [etag, `W/${etag}`, `"stale", ${etag}`, "*"]) {
      const again = await get(gw.url, { "if-none-match": ifNoneMatch });
      expect(again.status, ifNoneMatch).toBe(304);
      expect(again.headers.get("etag")).toBe(etag);
    }
    const changed = await get(gw.url, { "if-none-match": '"stale"' });
    expect(changed.status).toBe(200);
  });

  it("a 304 still needs a valid token", async () => {
    const etag = (await get(gw.url)).headers.get("etag") as string;
    const response = await fetch(`${gw.url}/v1/models-info`, {
      headers: { "if-none-match": etag },
    });
    expect(response.status).toBe(401);
  });

  it("has the same ETag on every instance built from the same config", async () => {
    const a = (await get(gw.url)).headers.get("etag");
    const b = await get(second.url, { "if-none-match": a as string });
    expect(b.status).toBe(304);
  });
});

describe("prices in the document", () => {
  // What the document held when it was written with Intl.NumberFormat, now formatted by hand
  // (an Intl formatter costs the process ICU's data, ~8 MiB resident).
  const intl = new Intl.NumberFormat("en-US", { useGrouping: false, maximumSignificantDigits: 15 });

  it("are written as Intl.NumberFormat wrote them: plain decimals, 15 significant digits", () => {
    const values = [
      1,
      0.1,
      0.1 + 0.2,
      3e-7,
      0.000003,
      0.000015,
      2.5,
      123.456,
      1e21,
      1.5e22,
      1e-20,
      5e-324,
      Number.MAX_VALUE,
      9.999999999999998,
      99999999999999.95,
      0.12345678901234568,
    ];
    let seed = 42; // a fixed sequence: every run checks the same numbers
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let exponent = -25; exponent <= 25; exponent++) {
      for (let i = 0; i < 200; i++) {
        values.push(next() * 10 ** exponent, Math.round(next() * 1e6) * 10 ** exponent);
        values.push(Number((next() * 10 ** exponent).toPrecision(1 + (i % 17))));
      }
    }
    const differing = values.filter((value) => formatPrice(value) !== intl.format(value));
    expect(differing).toEqual([]);
    expect(formatPrice(3e-7)).toBe("0.0000003");
    expect(formatPrice(0)).toBe("0");
    expect(formatPrice(-0)).toBe("0"); // Intl wrote "-0"
  });
});
