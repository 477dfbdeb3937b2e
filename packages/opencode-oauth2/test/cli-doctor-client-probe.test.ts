// What doctor's client probe (a refresh_token grant with a token that does not exist) makes of
// answers other than invalid_grant / invalid_client, and of no answer at all.
import { publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, runDoctor } from "./cli/doctor-report.js";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

describe("doctor's client probe", () => {
  it("calls an error about the grant inconclusive, and says what the IdP said", async () => {
    h = await cliHarness({
      clients: [publicNativeClient("cli", { grant_types: ["authorization_code"] })],
    });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli" }));
    const { code, find } = await runDoctor(h, "corp");
    expect(code).toBe(0);
    expect(find("client (login)")).toEqual([
      expect.objectContaining({
        level: "warn",
        found:
          'inconclusive (HTTP 400: invalid_request (requested grant type is not allowed for this client)): the IdP answered the probe from "cli" (public) with an error that does not tell whether it accepts the client.',
        fix: "read what the IdP said: a token refresh from this client gets the same answer",
      }),
    ]);
  });

  it("calls an OAuth error that says nothing about the client inconclusive", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli" }));
    h.idp.setFailure("temporarily_unavailable");
    const { code, find } = await runDoctor(h, "corp");
    expect(code).toBe(0);
    expect(find("client (login)")).toEqual([
      expect.objectContaining({
        level: "warn",
        found: expect.stringMatching(
          /^inconclusive \(HTTP 503: temporarily_unavailable \(.*\)\): the IdP answered the probe from "cli" \(public\) with an error that does not tell whether it accepts the client\.$/,
        ),
        fix: "the IdP has a problem; try again later",
      }),
    ]);
  });

  it("reports a token endpoint it cannot reach as an error", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    const closed = `http://127.0.0.1:${await freePort()}/token`;
    await h.writeGlobalConfig(
      providerConfig("corp", {
        issuer: h.idp.issuer,
        clientId: "cli",
        authFlow: "device_code",
        endpoints: { deviceAuthorization: `${h.idp.issuer}/device/auth`, token: closed },
      }),
    );
    const { code, find } = await runDoctor(h, "corp");
    expect(code).toBe(1);
    expect(find("client (login)")).toEqual([
      expect.objectContaining({
        level: "error",
        found: expect.stringMatching(
          /^probing "cli" \(public\) failed: the IdP could not be reached \(refreshing the access token/,
        ),
        fix: "check the issuer URL, your network and proxy settings, and that the IdP is up",
      }),
    ]);
  });
});
