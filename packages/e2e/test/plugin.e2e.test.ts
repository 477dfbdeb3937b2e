import {
  confidentialClient,
  DEFAULT_FAKE_ANSWER,
  type FakeLlm,
  jsonlText,
  type OpencodeHome,
  opencodeClient,
  publicNativeClient,
  runOpencode,
  startIdp,
  startOpencodeServe,
  TestBrowser,
  type TestIdp,
} from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allValid,
  home,
  managedProvider,
  modelServerFor,
  OAUTH2_PLUGIN,
  runInteractive,
} from "./fixtures.js";

const DEVICE_LABEL = "Device code login (for machines without a browser)";

let shortIdp: TestIdp; // 5-second access tokens
let otherIdp: TestIdp;
let shortLlm: FakeLlm;
let otherLlm: FakeLlm;
const homes: OpencodeHome[] = [];

const headless = (idp: TestIdp) => ({
  issuer: idp.issuer,
  clientId: "svc",
  clientSecret: "svc-secret",
  authFlow: "client_credentials",
  tokenExpirySkewMs: 1000,
});

async function newHome(provider: Record<string, unknown>) {
  const h = await home({ plugin: [OAUTH2_PLUGIN], provider });
  homes.push(h);
  return h;
}

beforeAll(async () => {
  shortIdp = await startIdp({
    clients: [confidentialClient("svc", "svc-secret")],
    accessTokenTtl: 5,
  });
  otherIdp = await startIdp({ clients: [confidentialClient("svc", "svc-secret")] });
  shortLlm = await modelServerFor(shortIdp);
  otherLlm = await modelServerFor(otherIdp);
});

afterAll(async () => {
  for (const h of homes) await h.cleanup();
  await Promise.all([shortLlm?.close(), otherLlm?.close(), shortIdp?.close(), otherIdp?.close()]);
});

describe("the oauth2 plugin inside the real opencode", () => {
  it("client credentials: opencode run succeeds and the model server saw valid tokens", async () => {
    shortLlm.clearRequests();
    const h = await newHome({ corp: managedProvider(shortLlm, headless(shortIdp)) });
    const result = await runOpencode(
      h,
      ["run", "-m", "corp/demo-model", "--format", "json", "Say hello"],
      {
        timeoutMs: 90_000,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(jsonlText(result.stdout)).toContain(DEFAULT_FAKE_ANSWER);
    expect(allValid(shortLlm)).toBe(true);
    const claims = shortLlm.chatRequests()[0]?.claims ?? {};
    expect(claims).toMatchObject({ client_id: "svc", iss: shortIdp.issuer });
    // The token lives in the shared cache, never in opencode's auth.json.
    expect(JSON.stringify(await h.readAuth())).not.toContain(
      shortLlm.chatRequests()[0]?.token ?? "-",
    );
  });

  it("one serve session: two IdPs never mix tokens, tokens outlive nothing, a 401 costs one refresh and one retry", async () => {
    shortLlm.clearRequests();
    otherLlm.clearRequests();
    const h = await newHome({
      corp: managedProvider(shortLlm, headless(shortIdp)),
      other: managedProvider(otherLlm, headless(otherIdp)),
    });
    const server = await startOpencodeServe(h);
    try {
      const client = opencodeClient(server.url);
      const corp = { providerID: "corp", modelID: "demo-model" };
      const other = { providerID: "other", modelID: "demo-model" };
      const first = await client.prompt("first", corp);
      expect(first.text).toContain(DEFAULT_FAKE_ANSWER);
      const second = await client.prompt("second", other);
      expect(second.text).toContain(DEFAULT_FAKE_ANSWER);

      // Each server only ever saw tokens its own IdP signed (anything else would be invalid).
      expect(allValid(shortLlm)).toBe(true);
      expect(allValid(otherLlm)).toBe(true);
      expect(shortLlm.chatRequests().every((r) => r.claims?.iss === shortIdp.issuer)).toBe(true);
      expect(otherLlm.chatRequests().every((r) => r.claims?.iss === otherIdp.issuer)).toBe(true);

      // Longer than the 5-second token lifetime, in the same session.
      const firstTokens = new Set(shortLlm.chatRequests().map((r) => r.token));
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      const later = await client.sendMessage(first.sessionId, { text: "again", model: corp });
      expect(later.error).toBeUndefined();
      expect(later.text).toContain(DEFAULT_FAKE_ANSWER);
      const lastRequest = shortLlm.chatRequests().at(-1);
      expect(lastRequest?.valid).toBe(true);
      expect(firstTokens.has(lastRequest?.token)).toBe(false);

      // A 401 from the model server: exactly one new token and exactly one retry.
      const grantsBefore = otherIdp.countGrants("client_credentials");
      const requestsBefore = otherLlm.chatRequests().length;
      otherLlm.failNextWith401(1);
      const retried = await client.sendMessage(second.sessionId, {
        text: "after 401",
        model: other,
      });
      expect(retried.text).toContain(DEFAULT_FAKE_ANSWER);
      const sent = otherLlm.chatRequests().slice(requestsBefore);
      expect(sent.map((r) => r.status)).toEqual([401, 200]);
      expect(sent[1]?.token).not.toBe(sent[0]?.token);
      expect(otherIdp.countGrants("client_credentials")).toBe(grantsBefore + 1);
    } finally {
      await server.close();
    }
  });

  it("with the IdP down or hanging, or no login yet, opencode models works promptly and the log says why", async () => {
    const down = await startIdp({ clients: [confidentialClient("svc", "svc-secret")] });
    await down.close();
    const hanging = await startIdp({ clients: [confidentialClient("svc", "svc-secret")] });
    hanging.setFailure("hang", { discovery: true });
    try {
      const h = await newHome({
        down: managedProvider(shortLlm, { ...headless(down), httpTimeoutMs: 1500 }),
        hanging: managedProvider(shortLlm, { ...headless(hanging), httpTimeoutMs: 1500 }),
        // An interactive provider nobody logged in to: no TTY here, so no browser, no prompt.
        human: managedProvider(shortLlm, { issuer: otherIdp.issuer, clientId: "opencode-cli" }),
      });
      // Log records on stderr: opencode may exit before its log file is flushed.
      const result = await runOpencode(h, ["models", "down", "--print-logs"], {
        timeoutMs: 90_000,
      });
      // Bounded by httpTimeoutMs, not by the IdP: the hanging IdP never answers, so a start
      // that ends by itself (the runner did not kill it) was ended by the bound.
      expect(result.timedOut, result.stderr).toBe(false);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("down/demo-model");
      expect(result.stderr).toMatch(
        /oauth2_bearer_propagation_skipped_idp_unreachable .*provider[=:"\s]+"?down\b/,
      );
      // The bound that ended it is the configured one.
      expect(result.stderr).toMatch(
        /oauth2_bearer_propagation_skipped_timeout .*provider[=:"\s]+"?hanging\b.*timeoutMs[=:"\s]+1500\b|oauth2_bearer_propagation_skipped_timeout .*timeoutMs[=:"\s]+1500\b.*provider[=:"\s]+"?hanging\b/,
      );
      expect(result.stderr).toMatch(
        /oauth2_login_required .*command="opencode-oauth2 login human"/,
      );
      // Nothing but opencode's own output on stdout.
      expect(result.stdout).not.toContain("oauth2_");
    } finally {
      await hanging.close();
    }
    // A start held until the runner's 90 s limit must fail on the assertion, not the timeout.
  }, 180_000);

  it("opencode auth login with the device method, approved over HTTP, then a request succeeds", async () => {
    const idp = await startIdp({ clients: [publicNativeClient("opencode-cli")] });
    const llm = await modelServerFor(idp);
    try {
      const h = await newHome({
        human: managedProvider(llm, {
          issuer: idp.issuer,
          clientId: "opencode-cli",
          authFlow: "device_code",
          scopes: "openid offline_access",
        }),
      });
      const browser = new TestBrowser();
      let approval: Promise<unknown> | undefined;
      const login = await runInteractive(
        h,
        ["providers", "login", "-p", "human", "-m", DEVICE_LABEL],
        (output) => {
          const match = output.match(/Open (\S+) and enter the code (\S+) /);
          if (match && !approval)
            approval = browser.approveDevice(match[1] as string, match[2] as string);
        },
      );
      expect(login.code, login.output).toBe(0);
      await expect(approval).resolves.toMatchObject({ outcome: "approved" });
      // opencode keeps only a placeholder; the token is in the shared cache.
      expect(JSON.stringify(await h.readAuth())).toContain("oauth2-managed");

      const run = await runOpencode(
        h,
        ["run", "-m", "human/demo-model", "--format", "json", "hi"],
        { timeoutMs: 90_000 },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(jsonlText(run.stdout)).toContain(DEFAULT_FAKE_ANSWER);
      expect(allValid(llm)).toBe(true);
      expect(llm.chatRequests()[0]?.claims).toMatchObject({
        client_id: "opencode-cli",
        sub: "test-user",
      });
    } finally {
      await llm.close();
      await idp.close();
    }
  });
});
