// The plugin inside the real opencode (Bun) behind a company network: its token comes through a
// real tinyproxy (HTTPS_PROXY) from the testkit IdP served over https with a CA made for this
// test, trusted only through the provider's tls.caFile (opencode's environment is the home's
// own: no NODE_EXTRA_CA_CERTS of this machine).
import {
  confidentialClient,
  createTestCa,
  type FakeLlm,
  type ForwardProxy,
  jsonlText,
  runOpencode,
  startForwardProxy,
  startIdp,
  type TestCa,
  type TestIdp,
} from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allValid, home, managedProvider, modelServerFor, OAUTH2_PLUGIN } from "./fixtures.js";

let ca: TestCa;
let idp: TestIdp;
let proxy: ForwardProxy;
let llm: FakeLlm;

beforeAll(async () => {
  ca = await createTestCa();
  idp = await startIdp({
    https: { ca },
    clients: [confidentialClient("svc", "svc-secret", { grant_types: ["client_credentials"] })],
  });
  proxy = await startForwardProxy({ connectPorts: [idp.port] });
  llm = await modelServerFor(idp);
});

afterAll(async () => {
  await llm?.close();
  await proxy?.close();
  await idp?.close();
  await ca?.cleanup();
});

describe("the oauth2 plugin behind a proxy and a private CA", () => {
  it("gets its token through the proxy from the https IdP, and opencode run uses it", async () => {
    const oauth2 = {
      issuer: idp.issuer,
      clientId: "svc",
      clientSecret: "svc-secret",
      authFlow: "client_credentials",
      tls: { caFile: ca.caFile },
    };
    const h = await home({
      plugin: [OAUTH2_PLUGIN],
      provider: { corp: managedProvider(llm, oauth2) },
    });
    try {
      const result = await runOpencode(
        h,
        ["run", "-m", "corp/demo-model", "--format", "json", "Say hello"],
        { timeoutMs: 90_000, extraEnv: { HTTPS_PROXY: proxy.url } },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(jsonlText(result.stdout).length).toBeGreaterThan(0);
      expect(allValid(llm)).toBe(true);
      expect(llm.chatRequests()[0]?.claims).toMatchObject({ client_id: "svc", iss: idp.issuer });
      // The IdP was reached only through tinyproxy's CONNECT tunnel.
      expect(await proxy.requests(), await proxy.log()).toContain(`CONNECT 127.0.0.1:${idp.port}`);
      expect(idp.tokenRequests.length).toBeGreaterThan(0);
    } finally {
      await h.cleanup();
    }
  });
});
