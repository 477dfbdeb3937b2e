import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_FAKE_ANSWER, type FakeLlm, startFakeLlm } from "../src/fake-llm.js";
import {
  createOpencodeHome,
  jsonlText,
  type OpencodeHome,
  readOpencodeLog,
  runOpencode,
  startOpencodeServe,
} from "../src/index.js";

const TOKEN = "static-test-token";

// A plugin module must export functions only: any other export makes opencode skip it.
const PLUGIN_SOURCE = `export default async function headerPlugin() {
  return {
    async config(cfg) {
      const fake = cfg.provider?.fake;
      if (fake) {
        fake.options = fake.options ?? {};
        fake.options.headers = { ...fake.options.headers, "x-from-plugin": "yes" };
      }
    },
  };
}
`;

describe("isolated opencode runner (real binary, static token)", () => {
  let fake: FakeLlm;
  let home: OpencodeHome;

  beforeAll(async () => {
    fake = await startFakeLlm({
      verify: async (token) => {
        if (token !== TOKEN) throw new Error("unknown token");
        return { sub: "static" };
      },
    });
    home = await createOpencodeHome();
    const plugin = await home.writeFile("plugins/header-plugin.js", PLUGIN_SOURCE);
    await home.writeConfig({
      plugin: [pathToFileURL(plugin).href],
      provider: {
        fake: {
          npm: "@ai-sdk/openai-compatible",
          options: { baseURL: fake.baseURL, apiKey: TOKEN },
          models: { "demo-model": { name: "Demo" } },
        },
      },
    });
  });

  afterAll(async () => {
    await fake?.close();
    await home?.cleanup();
  });

  it("lists the custom provider's model without installing anything from npm", async () => {
    const result = await runOpencode(home, ["models", "fake"], { timeoutMs: 30_000 });
    expect(result.timedOut).toBe(false);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split("\n").map((l) => l.trim())).toContain("fake/demo-model");
    // An npm install of @opencode-ai/plugin would take 15–30 s and fill node_modules.
    expect(result.durationMs).toBeLessThan(12_000);
    expect(existsSync(join(home.configDir, "node_modules", "@opencode-ai"))).toBe(false);
    expect(existsSync(join(home.configDir, "package.json"))).toBe(false);
    // Listing models never calls the model server.
    expect(fake.requests).toHaveLength(0);
  }, 40_000);

  it("runs a prompt against the fake model with the static bearer token", async () => {
    const result = await runOpencode(
      home,
      ["run", "-m", "fake/demo-model", "--format", "json", "say hi"],
      { timeoutMs: 45_000 },
    );
    expect(result.timedOut).toBe(false);
    expect(result.code, `${result.stderr}\n${await readOpencodeLog(home)}`).toBe(0);
    expect(jsonlText(result.stdout)).toContain(DEFAULT_FAKE_ANSWER);

    const chats = fake.chatRequests();
    expect(chats.length).toBeGreaterThan(0);
    for (const request of chats) {
      expect(request.authorization).toBe(`Bearer ${TOKEN}`);
      expect(request.valid).toBe(true);
      expect(request.status).toBe(200);
    }
    expect(chats.some((r) => (r.body as { stream?: boolean }).stream === true)).toBe(true);
    expect(existsSync(join(home.configDir, "node_modules", "@opencode-ai"))).toBe(false);
  }, 60_000);

  it("loads a local plugin by file:// URL whose config hook adds a provider header", async () => {
    const chats = fake.chatRequests();
    expect(chats.length).toBeGreaterThan(0);
    for (const request of chats) expect(request.headers["x-from-plugin"]).toBe("yes");
    expect(await readOpencodeLog(home)).not.toContain("Plugin export is not a function");
  });

  it("serves the HTTP API: a session prompt reaches the fake model", async () => {
    fake.clearRequests();
    const server = await startOpencodeServe(home);
    try {
      expect((await server.client.health()).healthy).toBe(true);
      const answer = await server.client.prompt("say hi", {
        providerID: "fake",
        modelID: "demo-model",
      });
      expect(answer.error).toBeUndefined();
      expect(answer.sessionId).toMatch(/^ses/);
      expect(answer.text).toBe(DEFAULT_FAKE_ANSWER);
      expect(fake.chatRequests().some((r) => r.headers["x-from-plugin"] === "yes")).toBe(true);
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe("fake LLM", () => {
  it("requires a valid bearer token and can force 401s", async () => {
    const fake = await startFakeLlm({
      verify: async (token) => {
        if (token !== TOKEN) throw new Error("unknown token");
        return { sub: "static" };
      },
    });
    try {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const missing = await fetch(`${fake.baseURL}/models`);
      expect(missing.status).toBe(401);
      expect(missing.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
        "invalid_token",
      );
      const wrong = await fetch(`${fake.baseURL}/models`, {
        headers: { authorization: "Bearer x" },
      });
      expect(wrong.status).toBe(401);

      const models = await fetch(`${fake.baseURL}/models`, { headers: auth });
      expect(await models.json()).toMatchObject({ object: "list", data: [{ id: "demo-model" }] });

      fake.failNextWith401(1);
      const chat = (stream: boolean) =>
        fetch(`${fake.baseURL}/chat/completions`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({
            model: "demo-model",
            stream,
            stream_options: { include_usage: true },
            messages: [{ role: "user", content: "hi" }],
          }),
        });
      expect((await chat(false)).status).toBe(401);
      const plain = await chat(false);
      expect(plain.status).toBe(200);
      expect(await plain.json()).toMatchObject({
        object: "chat.completion",
        choices: [{ message: { content: DEFAULT_FAKE_ANSWER }, finish_reason: "stop" }],
      });
      const sse = await (await chat(true)).text();
      const events = sse
        .split("\n\n")
        .filter((e) => e.startsWith("data: "))
        .map((e) => e.slice(6));
      expect(events.at(-1)).toBe("[DONE]");
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
      const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
      expect(text).toBe(DEFAULT_FAKE_ANSWER);
      expect(chunks.some((c) => c.choices[0]?.finish_reason === "stop")).toBe(true);
      expect(chunks.at(-1).usage.total_tokens).toBeGreaterThan(0);

      expect(fake.chatRequests().map((r) => [r.status, r.valid, r.forced401 ?? false])).toEqual([
        [401, true, true],
        [200, true, false],
        [200, true, false],
      ]);
      expect(fake.requests[0]).toMatchObject({ valid: false, status: 401 });
      expect(fake.requests[2]?.claims).toEqual({ sub: "static" });
    } finally {
      await fake.close();
    }
  });
});
