import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  DEFAULT_FAKE_ANSWER,
  type FakeLlm,
  type OpencodeHome,
  type OpencodeServer,
  publicNativeClient,
  startChild,
  startIdp,
  startOpencodeServe,
  TestBrowser,
  type TestIdp,
} from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allValid, CLI, home, managedProvider, modelServerFor, OAUTH2_PLUGIN } from "./fixtures.js";

/**
 * Whoever can reach `opencode serve` reads what its HTTP API returns: the resolved config with
 * every provider's options among it. The plugin keeps tokens out of everything opencode
 * serialises; the per-request fetch is the only place a token goes.
 */

const JWT_SHAPED = /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/;

let idp: TestIdp;
let llm: FakeLlm;
let h: OpencodeHome;
let server: OpencodeServer | undefined;

beforeAll(async () => {
  idp = await startIdp({ clients: [publicNativeClient("opencode-cli")] });
  llm = await modelServerFor(idp);
  h = await home({
    plugin: [OAUTH2_PLUGIN],
    provider: {
      human: managedProvider(llm, {
        issuer: idp.issuer,
        clientId: "opencode-cli",
        authFlow: "device_code",
        scopes: "openid offline_access",
      }),
    },
  });
});

afterAll(async () => {
  await server?.close();
  await h?.cleanup();
  await Promise.all([llm?.close(), idp?.close()]);
});

/** `opencode-oauth2 login human` with the device flow, approved by the test browser. */
async function logIn(): Promise<void> {
  const browser = new TestBrowser();
  let approval: Promise<unknown> | undefined;
  const login = startChild(process.execPath, [CLI, "login", "human", "--flow", "device"], {
    env: h.env,
    cwd: h.projectDir,
    timeoutMs: 60_000,
    onStderr: (stderr) => {
      const match = stderr.match(/open\s+(\S+)\s+enter\s+(\S+)/);
      if (match && !approval)
        approval = browser.approveDevice(match[1] as string, match[2] as string);
    },
  });
  const result = await login.done;
  expect(result.code, result.stderr).toBe(0);
  await expect(approval).resolves.toMatchObject({ outcome: "approved" });
}

/**
 * Every GET endpoint of the server's own OpenAPI document that takes no path parameter, except
 * `/tui/…`: the TUI's control channel, a long poll that answers only when a TUI request comes.
 */
async function plainGetPaths(url: string): Promise<string[]> {
  const doc = (await (await fetch(`${url}/doc`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(doc.paths)
    .filter(
      ([path, methods]) => "get" in methods && !path.includes("{") && !path.startsWith("/tui/"),
    )
    .map(([path]) => path);
}

/** What each path answers; an event stream is read up to its first chunk. */
async function readAll(url: string, paths: string[]): Promise<Map<string, string>> {
  const answers = new Map<string, string>();
  for (const path of paths) {
    // `/provider` lists every known model (megabytes) and takes seconds on a first call.
    const signal = AbortSignal.timeout(20_000);
    const response = await fetch(`${url}${path}`, { signal }).catch(() => undefined);
    if (!response) continue;
    if (response.headers.get("content-type")?.includes("text/event-stream")) {
      const reader = response.body?.getReader();
      const first = await reader?.read().catch(() => undefined);
      answers.set(path, Buffer.from(first?.value ?? new Uint8Array()).toString("utf8"));
      await reader?.cancel().catch(() => {});
    } else {
      answers.set(path, await response.text().catch(() => ""));
    }
  }
  return answers;
}

describe("opencode serve with a logged-in oauth2 provider", () => {
  it("serves no token in any config or provider answer, and requests still carry a valid bearer", async () => {
    await logIn();
    const cached = JSON.parse(
      await readFile(join(h.cacheHome, "opencode-oauth2", "tokens", "human.json"), "utf8"),
    ) as { accessToken: string; refreshToken?: string; idToken?: string };
    // The secrets this test looks for exist: a token to leak, and a refresh token.
    expect(await idp.verifyAccessToken(cached.accessToken)).toMatchObject({
      client_id: "opencode-cli",
    });
    expect(cached.refreshToken).toBeTruthy();
    const secrets = [cached.accessToken, cached.refreshToken, cached.idToken].filter(
      (s): s is string => Boolean(s),
    );

    server = await startOpencodeServe(h);
    const paths = await plainGetPaths(server.url);
    /** Which answers hold a cached token or anything shaped like a JWT. */
    const leaks = (answers: Map<string, string>) => {
      for (const path of ["/config", "/config/providers", "/provider"]) {
        expect(answers.get(path), `${path} was read`).toBeTruthy();
      }
      const found: string[] = [];
      for (const [path, text] of answers) {
        if (secrets.some((secret) => text.includes(secret))) found.push(`${path}: a cached token`);
        else if (JWT_SHAPED.test(text)) found.push(`${path}: a JWT-shaped string`);
      }
      return found;
    };
    const before = await readAll(server.url, paths);
    expect(leaks(before)).toEqual([]);

    // The provider is managed: opencode holds the placeholder, never a credential.
    const config = JSON.parse(before.get("/config") as string) as {
      provider: Record<string, { options: Record<string, unknown> }>;
    };
    expect(config.provider.human?.options.apiKey).toBe("oauth2-managed");

    // A request through the same server still carries a token the model server accepts.
    llm.clearRequests();
    const answer = await server.client.prompt("hello", {
      providerID: "human",
      modelID: "demo-model",
    });
    expect(answer.error).toBeUndefined();
    expect(answer.text).toContain(DEFAULT_FAKE_ANSWER);
    expect(allValid(llm)).toBe(true);
    expect(llm.chatRequests()[0]?.token).toBe(cached.accessToken);

    // After a request, including what the session recorded about it.
    const after = await readAll(server.url, [
      ...paths,
      `/session/${answer.sessionId}`,
      `/session/${answer.sessionId}/message`,
    ]);
    expect(after.get(`/session/${answer.sessionId}/message`)).toContain(DEFAULT_FAKE_ANSWER);
    expect(leaks(after)).toEqual([]);
  });
});
