// An IdP that answers OAuth errors with the status alone (Glewlwyd: a refused client gets an
// empty 403, a bad grant an empty 400). doctor's client probe — a refresh_token grant with a
// token that does not exist — gets an empty 400 from a working setup; it must not call that an
// error, and must still tell a right secret from a wrong one.
import { confidentialClient, publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { runDoctor } from "./cli/doctor-report.js";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

async function setup(oauth2: Record<string, unknown>) {
  h = await cliHarness({
    clients: [publicNativeClient("cli"), confidentialClient("svc", "right-secret")],
    quirks: { emptyErrorBodies: true },
  });
  await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, ...oauth2 }));
}

const doctor = (...args: string[]) => runDoctor(h, ...args);

describe("doctor on an IdP that answers errors with empty bodies", () => {
  it("passes a working public client, by comparing with a client id the IdP does not know", async () => {
    await setup({ clientId: "cli" });
    const { code, report, find } = await doctor("corp");
    expect(code).toBe(0);
    expect(report.errors).toBe(0);
    expect(find("client (login)")).toEqual([
      expect.objectContaining({
        level: "ok",
        found:
          'the IdP knows "cli" (public) and accepted its authentication: it answered HTTP 400, empty body to the probe, and HTTP 403, empty body to the same probe from a client id it does not know',
      }),
    ]);
    // Two refresh grants with a token that does not exist, the second from an unknown client:
    // nothing minted, nothing else sent.
    expect(h.idp.tokenRequests.map((r) => r.grantType)).toEqual(["refresh_token", "refresh_token"]);
    expect(h.idp.tokenRequests[0]?.clientId).toBe("cli");
    expect(h.idp.tokenRequests[1]?.clientId).toMatch(/^opencode-oauth2-doctor-/);
  });

  it("tells a right secret from a wrong one", async () => {
    await setup({ clientId: "svc", clientSecret: "right-secret", authFlow: "client_credentials" });
    const right = await doctor("corp");
    expect(right.code).toBe(0);
    expect(right.find("client (headless)")[0]).toMatchObject({
      level: "ok",
      found:
        'the IdP knows "svc" (confidential, client_secret_basic) and accepted its authentication: it answered HTTP 400, empty body to the probe, and HTTP 403, empty body to the same probe with a deliberately wrong secret',
    });
    expect(h.idp.tokenRequests.every((r) => r.grantType === "refresh_token")).toBe(true);

    await h.writeGlobalConfig(
      providerConfig("corp", {
        issuer: h.idp.issuer,
        clientId: "svc",
        clientSecret: "wrong-secret",
        authFlow: "client_credentials",
      }),
    );
    const wrong = await doctor("corp");
    expect(wrong.code).toBe(1);
    const [finding] = wrong.find("client (headless)");
    expect(finding).toMatchObject({
      level: "error",
      found:
        'the IdP refused "svc" (confidential) with client_secret_basic (HTTP 403, empty body, the same answer as to a deliberately wrong secret) and with client_secret_post (HTTP 403, empty body, the same answer as to a deliberately wrong secret).',
    });
    expect(finding?.fix).toMatch(/^check clientSecret/);
    // The secrets are never shown.
    expect(wrong.stdout + wrong.stderr).not.toMatch(/wrong-secret|right-secret/);
  });

  it("calls an answer it cannot interpret inconclusive, a warning and not an error", async () => {
    await setup({ clientId: "cli" });
    // Every token request now gets an empty 400, whoever asks.
    h.idp.setFailure("empty-400");
    const { code, report, find } = await doctor("corp");
    expect(code).toBe(0);
    expect(report.errors).toBe(0);
    expect(find("client (login)")).toEqual([
      expect.objectContaining({
        level: "warn",
        found:
          'inconclusive (HTTP 400, empty body): the IdP answered the same to the probe from "cli" (public) and from a client id it does not know, so doctor cannot tell whether it accepts this client.',
        fix: "nothing is known to be wrong; if a login or token request fails, its error names the IdP's answer",
      }),
    ]);

    // The text report says the same, as a warning.
    const text = await h.run(["doctor", "corp"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      "  ! client (login): inconclusive (HTTP 400, empty body): the IdP answered the same",
    );
    expect(text.stdout).toMatch(/No errors, 2 warnings\./);

    h.idp.setFailure("500");
    const failing = await doctor("corp");
    expect(failing.code).toBe(0);
    expect(failing.find("client (login)")[0]).toMatchObject({
      level: "warn",
      found: expect.stringMatching(/^inconclusive \(HTTP 500 \(text\/plain\): ".*"\): /),
    });
  });
});
