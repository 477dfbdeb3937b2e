import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listeningPort, runGatewayBin } from "./fixtures/built-gateway.js";
import { cliToken, testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { startUpstream, type Upstream } from "./fixtures/upstream.js";

/** The `opencode-gateway` bin as built (turbo builds before `test`): config, start, shutdown. */

let dir: string;
let idp: IssuerStub;
let upstream: Upstream;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gateway-main-"));
  idp = await startIssuerStub();
  upstream = await startUpstream();
});
afterAll(async () => {
  await upstream?.close();
  await idp?.close();
});

function run(args: string[], env: Record<string, string> = {}) {
  const running = runGatewayBin(args, env);
  return {
    running,
    child: running.child,
    exited: running.done.then((r) => r.code),
    out: () => running.output().stdout,
    err: () => running.output().stderr,
  };
}

async function configFile(name: string, content: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(content));
  return file;
}

describe("opencode-gateway (bin)", () => {
  it("exits 2 naming the bad field and the env var that set it", async () => {
    const file = await configFile("bad.json", {
      ...testConfig(idp.issuer, { demo: true }),
      audiences: [],
      listen: { maxBodyBytes: 10 },
    });
    const { exited, err } = run(["--config", file], { OPENCODE_GATEWAY_PORT: "http" });
    expect(await exited).toBe(2);
    expect(err()).toContain(`invalid gateway config (${file})`);
    expect(err()).toMatch(/- audiences: list at least one accepted audience/);
    expect(err()).toMatch(/- listen\.port \(set by OPENCODE_GATEWAY_PORT\)/);
    // zod's own message for a bound, in English: the schemas run on zod/mini, which has none
    // unless the parse asks for them.
    expect(err()).toMatch(/- listen\.maxBodyBytes: Too small: expected number to be >=1024\./);
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
    const port = await listeningPort(proc.running);
    const base = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: "ok" });

    const token = await cliToken(idp);
    const release = upstream.holdAfterFirstWord();
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
    expect(text).toBe(upstream.requests.at(-1)?.response);
    expect(text).toContain('"content":"upstream."');
    expect(await proc.exited).toBe(0);
    expect(proc.err()).toContain('"event":"gateway_shutting_down"');
    expect(proc.err()).not.toContain(token);
  });
});
