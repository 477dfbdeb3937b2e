// clientAuthMethod "client_secret_jwt" through the built CLI, against the testkit's oidc-provider
// with the client registered for it: `token` gets a token, `doctor` sees the IdP accept the
// client (and refuse it with a wrong secret), and neither prints the secret.
import { clientSecretJwtClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { runDoctor } from "./cli/doctor-report.js";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

const SECRET = "hs256-secret-0123456789abcdefghijklmnopqrstuv";

const writeProvider = (clientSecret: string) =>
  h.writeGlobalConfig(
    providerConfig("ci", {
      issuer: h.idp.issuer,
      clientId: "ci-hs",
      clientSecret,
      clientAuthMethod: "client_secret_jwt",
      authFlow: "client_credentials",
    }),
  );

describe("client_secret_jwt through the CLI", () => {
  it("token prints a token the IdP issued to the client; doctor sees it accepted, then refused with a wrong secret", async () => {
    h = await cliHarness({ clients: [clientSecretJwtClient("ci-hs", SECRET)] });
    await writeProvider(SECRET);
    const token = await h.run(["token", "ci"]);
    expect(token.code, token.stderr).toBe(0);
    expect((await h.idp.verifyAccessToken(token.stdout.trim())).client_id).toBe("ci-hs");
    expect(token.stderr).not.toContain(SECRET);

    const good = await runDoctor(h, "ci");
    expect(good.code, good.stdout).toBe(0);
    expect(good.find("client auth (headless)")[0]).toMatchObject({
      level: "ok",
      found: 'confidential client "ci-hs" with client_secret_jwt',
    });
    expect(good.find("client (headless)")[0]?.found).toContain(
      '"ci-hs" (confidential, client_secret_jwt)',
    );
    expect(good.find("client (headless)")[0]?.level).toBe("ok");
    expect(good.stdout + good.stderr).not.toContain(SECRET);

    const wrong = "wrong-secret-0123456789abcdefghijklmnopqrstu";
    await writeProvider(wrong);
    const bad = await runDoctor(h, "ci");
    expect(bad.code).toBe(1);
    const [refused] = bad.find("client (headless)");
    expect(refused?.level).toBe("error");
    expect(refused?.fix).toContain("check clientSecret");
    expect(bad.stdout + bad.stderr).not.toContain(wrong);
  });

  it("without clientSecret: the config error names the field and the fix", async () => {
    h = await cliHarness({ clients: [clientSecretJwtClient("ci-hs", SECRET)] });
    await h.writeGlobalConfig(
      providerConfig("ci", {
        issuer: h.idp.issuer,
        clientId: "ci-hs",
        clientAuthMethod: "client_secret_jwt",
        authFlow: "client_credentials",
      }),
    );
    const result = await h.run(["token", "ci"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("provider.ci.options.oauth2.clientSecret");
    expect(result.stderr).toContain(
      "client_secret_jwt signs its assertion with the client secret: set clientSecret",
    );
  });
});
