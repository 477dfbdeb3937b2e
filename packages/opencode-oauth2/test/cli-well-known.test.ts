import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { confidentialClient, publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type CliHarness, cliHarness, readJson } from "./cli/harness.js";

let h: CliHarness;
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await h?.close();
});

/** Serves `manifest` at /.well-known/opencode, the way a gateway does. */
async function serveManifest(manifest: unknown): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url !== "/.well-known/opencode") return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(manifest));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const manifestFor = (oauth2: Record<string, unknown>) => ({
  auth: {
    command: ["opencode-oauth2", "login", "llm", "--well-known", "x", "--print-key"],
    env: "LLM_KEY",
  },
  config: {
    provider: {
      llm: {
        npm: "@ai-sdk/openai-compatible",
        options: { baseURL: "http://x/v1", apiKey: "{env:LLM_KEY}", oauth2 },
      },
    },
  },
});

describe("login --well-known --print-key (the manifest's auth.command)", () => {
  it("logs in with the manifest's provider settings and prints only the placeholder key", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    const base = await serveManifest(
      manifestFor({ issuer: h.idp.issuer, clientId: "cli", authFlow: "device_code" }),
    );
    // No local config at all: everything comes from the manifest.
    const running = h.start(["login", "llm", "--well-known", base, "--print-key"]);
    const [, uri, code] = await running.waitForStderr(/open\s+(\S+)\s+enter\s+(\S+)/s);
    await h.browser.approveDevice(uri as string, code as string);
    const result = await running.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("oauth2-managed\n");
    expect(result.stderr).toMatch(/Logged in to llm/);
    const cached = await readJson(h.tokenFile("llm"));
    expect(cached.binding).toMatchObject({ issuer: h.idp.issuer, clientId: "cli" });
    expect((await h.idp.verifyAccessToken(cached.accessToken)).client_id).toBe("cli");
  });

  it("names what is wrong with a manifest that lacks the provider, and writes nothing", async () => {
    h = await cliHarness({ clients: [confidentialClient("svc", "s")] });
    const base = await serveManifest(
      manifestFor({
        issuer: h.idp.issuer,
        clientId: "svc",
        clientSecret: "s",
        authFlow: "client_credentials",
      }),
    );
    const result = await h.run(["login", "other", "--well-known", base, "--print-key"]);
    expect(result.code).toBe(64);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/publishes no provider "other".*it has: llm/);
    expect(existsSync(h.tokenFile("other"))).toBe(false);
  });

  it("fails clearly when the URL serves no manifest", async () => {
    h = await cliHarness({ clients: [confidentialClient("svc", "s")] });
    const result = await h.run([
      "login",
      "llm",
      "--well-known",
      `${h.idp.issuer}/nothing-here`,
      "--print-key",
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/could not load .*\/\.well-known\/opencode \(HTTP 404\)/);
  });
});
