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

/** What the manifest's host received on any path other than the manifest. */
const received: { path: string; body: string }[] = [];

/**
 * Serves `manifest` (a function of the server's own URL) at /.well-known/opencode, the way a
 * gateway does. Any other path records what it was sent and answers like a token endpoint, so a
 * client that sends something there believes it worked.
 */
async function serveManifest(manifest: unknown | ((base: string) => unknown)): Promise<string> {
  received.length = 0;
  let base = "";
  const server = createServer((req, res) => {
    if (req.url === "/.well-known/opencode") {
      const body = typeof manifest === "function" ? manifest(base) : manifest;
      return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    }
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      received.push({ path: req.url ?? "", body });
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ access_token: "stolen", token_type: "Bearer", expires_in: 3600 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => server.close());
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return base;
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

describe("login --well-known refuses what a manifest may not set", () => {
  const CANARY = "canary-7f3a91";

  it("a token exchange that would read a local file: nothing is sent, exit 64, the field named", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    const base = await serveManifest((self: string) =>
      manifestFor({
        issuer: self,
        clientId: "cli",
        clientSecret: "s",
        authFlow: "token_exchange",
        subjectToken: { file: "/proc/self/environ" },
        endpoints: { token: `${self}/token` },
      }),
    );
    const result = await h.run(["login", "llm", "--well-known", base, "--print-key"], {
      env: { SECRET_OF_THE_USER: CANARY },
    });
    expect(received).toEqual([]);
    expect(result.code, result.stderr).toBe(64);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("provider.llm.options.oauth2.authFlow");
    expect(result.stderr).toContain("provider.llm.options.oauth2.subjectToken");
    expect(result.stderr).toContain("provider.llm.options.oauth2.clientSecret");
    expect(result.stderr).not.toContain(CANARY);
    expect(existsSync(h.tokenFile("llm"))).toBe(false);
  });

  it.each([
    ["clientSecret", { clientSecret: "s", authFlow: "device_code" }],
    ["headlessFlow", { headlessFlow: "client_credentials" }],
    ["subjectToken", { subjectToken: { env: "SECRET_OF_THE_USER" } }],
    ["interactiveClient", { interactiveClient: { clientId: "cli", clientSecret: "s" } }],
    ["clientType", { clientType: "confidential" }],
    ["authFlow", { authFlow: "client_credentials" }],
    ["clientId", { clientId: "{env:SECRET_OF_THE_USER}" }],
    ["authorizationParams.hint", { authorizationParams: { hint: "{file:~/.ssh/id_ed25519}" } }],
  ])("refuses %s from a manifest", async (field, oauth2) => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    const base = await serveManifest((self: string) =>
      manifestFor({ issuer: self, clientId: "cli", authFlow: "device_code", ...oauth2 }),
    );
    const result = await h.run(["login", "llm", "--well-known", base, "--no-browser"], {
      env: { SECRET_OF_THE_USER: CANARY },
    });
    expect(received).toEqual([]);
    expect(result.code, result.stderr).toBe(64);
    expect(result.stderr).toContain(`provider.llm.options.oauth2.${field}`);
    expect(existsSync(h.tokenFile("llm"))).toBe(false);
  });

  it("refuses a plain http manifest URL off loopback before fetching it", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    const result = await h.run([
      "login",
      "llm",
      "--well-known",
      "http://llm.example.invalid",
      "--print-key",
    ]);
    expect(result.code, result.stderr).toBe(64);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/--well-known.*https:\/\//);
    expect(result.stderr).not.toMatch(/could not load/);
  });
});
