import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, CLI_CLIENT, testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { startUpstream, UPSTREAM_SSE_BODY, type UpstreamStub } from "./fixtures/upstream-stub.js";

/** The `opencode-gateway` bin as built (turbo builds before `test`): config, start, shutdown. */

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
let dir: string;
let idp: IssuerStub;
let upstream: UpstreamStub;

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`pnpm build\` first`);
  dir = await mkdtemp(join(tmpdir(), "gateway-main-"));
  idp = await startIssuerStub();
  upstream = await startUpstream();
});
afterAll(async () => {
  await upstream?.close();
  await idp?.close();
});

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function configFile(name: string, content: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(content));
  return file;
}

function listeningPort(child: ChildProcess, err: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = err()
        .split("\n")
        .find((l) => l.includes('"event":"gateway_listening"'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    };
    child.stderr?.on("data", check);
    child.on("exit", () => reject(new Error(`exited before listening:\n${err()}`)));
  });
}

describe("opencode-gateway (bin)", () => {
  it("exits 2 naming the bad field and the env var that set it", async () => {
    const file = await configFile("bad.json", {
      ...testConfig(idp.issuer, { demo: true }),
      audiences: [],
    });
    const { exited, err } = run(["--config", file], { OPENCODE_GATEWAY_PORT: "http" });
    expect(await exited).toBe(2);
    expect(err()).toContain(`invalid gateway config (${file})`);
    expect(err()).toMatch(/- audiences: list at least one accepted audience/);
    expect(err()).toMatch(/- listen\.port \(set by OPENCODE_GATEWAY_PORT\)/);
  });

  it("prints the manifest with env overrides applied", async () => {
    const file = await configFile("ok.json", testConfig(idp.issuer, { demo: true }));
    const { exited, out } = run(["--print-manifest"], {
      OPENCODE_GATEWAY_CONFIG: file,
      OPENCODE_GATEWAY_PUBLIC_URL: "https://llm.corp.example",
    });
    expect(await exited).toBe(0);
    const manifest = JSON.parse(out()) as { auth: { command: string[] } };
    expect(manifest.auth.command).toContain("https://llm.corp.example");
  });

  it("serves, then on SIGTERM lets an open stream finish and exits 0", async () => {
    const file = await configFile(
      "serve.json",
      testConfig(
        idp.issuer,
        { baseURL: upstream.baseURL },
        { listen: { host: "127.0.0.1", port: 0 } },
      ),
    );
    const proc = run(["--config", file]);
    const port = await listeningPort(proc.child, proc.err);
    const base = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: "ok" });

    const token = await idp.sign({ iss: idp.issuer, aud: AUDIENCE, azp: CLI_CLIENT });
    const release = upstream.holdAfterFirstChunk();
    const response = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "team/coder", stream: true, messages: [] }),
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = new TextDecoder().decode((await reader.read()).value);

    proc.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(fetch(`${base}/healthz`)).rejects.toThrow(); // no longer accepting
    release();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      text += new TextDecoder().decode(r.value);
    }
    expect(text).toBe(UPSTREAM_SSE_BODY);
    expect(await proc.exited).toBe(0);
    expect(proc.err()).toContain('"event":"gateway_shutting_down"');
    expect(proc.err()).not.toContain(token);
  });
});
