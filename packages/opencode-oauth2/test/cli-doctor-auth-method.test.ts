// A confidential client whose id RFC 6749 Basic encoding changes (`ci-bot` → `ci%2Dbot`), at an
// IdP that does not decode Basic credentials: client_secret_basic is refused, client_secret_post
// works. doctor tries the methods the IdP advertises and names the one that works.
import { confidentialClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { runDoctor } from "./cli/doctor-report.js";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

const ciBot = (oauth2: Record<string, unknown> = {}) => ({
  clientId: "ci-bot",
  clientSecret: "ci-secret",
  authFlow: "client_credentials",
  ...oauth2,
});

async function setup(quirks: { emptyErrorBodies?: boolean }) {
  h = await cliHarness({
    clients: [confidentialClient("ci-bot", "ci-secret")],
    quirks: { basicCredentialsNotDecoded: true, ...quirks },
  });
  await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, ...ciBot() }));
}

const ENCODING =
  'the client id "ci-bot" contains "-", which RFC 6749 form-encoding of HTTP Basic credentials turns into "%2D"; this IdP evidently does not decode Basic credentials, so it looked up a client "ci%2Dbot"';

describe("doctor's client authentication trial", () => {
  it("names client_secret_post when the IdP refuses the Basic-encoded client id", async () => {
    await setup({});
    const { code, find, stdout } = await runDoctor(h, "corp");
    expect(code).toBe(1);
    expect(find("client (headless)")).toEqual([
      {
        provider: "corp",
        level: "error",
        check: "client (headless)",
        found:
          'the IdP refused "ci-bot" (confidential) with client_secret_basic (HTTP 401: invalid_client (client authentication failed)) and accepted it with client_secret_post.',
        fix: `set "clientAuthMethod": "client_secret_post" (${ENCODING})`,
      },
    ]);
    // The metadata check alone cannot see it: the IdP advertises both methods.
    expect(find("client auth (headless)")[0]?.level).toBe("ok");
    // Refresh probes only: the trial minted no token.
    expect(h.idp.tokenRequests.every((r) => r.grantType === "refresh_token")).toBe(true);
    expect(stdout).not.toContain("ci-secret");

    // The fix works: doctor passes, and the CLI gets a token.
    await h.writeGlobalConfig(
      providerConfig("corp", {
        issuer: h.idp.issuer,
        ...ciBot({ clientAuthMethod: "client_secret_post" }),
      }),
    );
    const fixed = await runDoctor(h, "corp");
    expect(fixed.code).toBe(0);
    expect(fixed.find("client (headless)")[0]).toMatchObject({
      level: "ok",
      found:
        'the IdP knows "ci-bot" (confidential, client_secret_post) and accepted its authentication',
    });
    expect((await h.run(["token", "corp"])).code).toBe(0);
  });

  it("finds it through empty answers too (Glewlwyd)", async () => {
    await setup({ emptyErrorBodies: true });
    const { code, find } = await runDoctor(h, "corp");
    expect(code).toBe(1);
    expect(find("client (headless)")[0]).toMatchObject({
      level: "error",
      found:
        'the IdP refused "ci-bot" (confidential) with client_secret_basic (HTTP 403, empty body, the same answer as to a deliberately wrong secret) and accepted it with client_secret_post (HTTP 400, empty body to the probe, HTTP 403, empty body with a deliberately wrong secret).',
      fix: `set "clientAuthMethod": "client_secret_post" (${ENCODING})`,
    });
  });
});
