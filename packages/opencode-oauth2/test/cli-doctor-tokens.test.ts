// doctor's checks of what the IdP issues and of its clock: an access token whose `aud` lacks
// the configured audience (the resource server will refuse it), an IdP that can encrypt
// id_tokens (this client cannot read them), and the IdP's clock against this machine's.
import { readFile } from "node:fs/promises";
import { confidentialClient, publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { browserLogin, runDoctor } from "./cli/doctor-report.js";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";
import { type RewritingProxy, startRewritingProxy } from "./cli/rewriting-proxy.js";

let h: CliHarness;
let proxy: RewritingProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await h?.close();
});

const svc = (oauth2: Record<string, unknown>) =>
  providerConfig("corp", {
    issuer: h.idp.issuer,
    clientId: "svc",
    clientSecret: "s",
    authFlow: "client_credentials",
    ...oauth2,
  });

describe("doctor on what the IdP issues", () => {
  it("warns when the cached access token's aud lacks the configured audience", async () => {
    h = await cliHarness({ clients: [confidentialClient("svc", "s")] });
    // The IdP ignores the `audience` parameter: its tokens are for urn:test:api.
    await h.writeGlobalConfig(svc({ audience: "https://llm.example.com" }));
    expect((await h.run(["token", "corp"])).code).toBe(0);
    const { code, find, stdout } = await runDoctor(h, "corp");
    expect(code).toBe(0);
    expect(find("audience")).toEqual([
      expect.objectContaining({
        level: "warn",
        found:
          'the cached access token is for "urn:test:api" (its aud), not for "https://llm.example.com": a resource server that checks the audience refuses it.',
        fix: 'make the IdP issue tokens for "https://llm.example.com" to this client (an audience mapper, an API permission or a resource registered at the IdP; docs/idps/), then drop the cached token: opencode-oauth2 logout corp',
      }),
    ]);
    const { accessToken } = JSON.parse(await readFile(h.tokenFile("corp"), "utf8"));
    expect(stdout).not.toContain(accessToken);

    await h.writeGlobalConfig(svc({ audience: h.idp.audience }));
    expect((await h.run(["token", "corp"])).code).toBe(0);
    const right = await runDoctor(h, "corp");
    expect(right.find("audience")).toEqual([
      expect.objectContaining({
        level: "ok",
        found: 'the cached access token is for "urn:test:api", the configured audience',
      }),
    ]);
  });

  it("says when the IdP can encrypt id_tokens, and when the cached login shows it does not", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")], idTokenEncryption: true });
    await h.writeGlobalConfig(
      providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", scopes: "openid" }),
    );
    const before = await runDoctor(h, "corp");
    expect(before.code).toBe(0);
    expect(before.find("id token")).toEqual([
      expect.objectContaining({
        level: "ok",
        found:
          "the IdP can encrypt id_tokens (id_token_encryption_alg_values_supported), which this client cannot read: keep ID token encryption off for this client (authentik: no Encryption Key); doctor sees whether it is on only after a login",
      }),
    ]);

    await browserLogin(h);
    const after = await runDoctor(h, "corp");
    expect(after.find("id token")).toEqual([
      expect.objectContaining({
        level: "ok",
        found:
          "the IdP can encrypt id_tokens, but not for this client: the cached login's id_token is signed, not encrypted",
      }),
    ]);
  });

  it("says nothing about id_token encryption when the IdP does not offer it", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli" }));
    expect((await runDoctor(h, "corp")).find("id token")).toEqual([]);
  });

  it("warns about an IdP whose clock is off, seen in the Date of its answers", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    proxy = await startRewritingProxy(h.idp.issuer, { clockSkewMs: 5 * 60_000 });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: proxy.issuer, clientId: "cli" }));
    const { code, find } = await runDoctor(h, "corp");
    expect(code).toBe(0);
    expect(find("clock")).toEqual([
      expect.objectContaining({
        level: "warn",
        found: "the IdP's clock is 5 min ahead of this machine's.",
        fix: "sync this machine's clock (NTP): a skewed clock makes tokens look expired or not yet valid",
      }),
    ]);
    // The other probes ran through the same IdP.
    expect(find("client (login)")[0]?.level).toBe("ok");
    expect(find("redirect uri")[0]?.level).toBe("ok");
  });
});
