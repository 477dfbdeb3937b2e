// What doctor's client probe (a refresh_token grant with a token that does not exist) makes of
// answers other than invalid_grant / invalid_client, and of no answer at all.
import { confidentialClient, publicNativeClient } from "@vymalo/testkit";
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

  it("tells a wrong secret from a right one when the IdP says unauthorized_client to both (Keycloak)", async () => {
    h = await cliHarness({
      clients: [confidentialClient("ci-bot", "right-secret")],
      quirks: { refusedClientAsUnauthorizedClient: true },
    });
    const write = (clientSecret: string) =>
      h.writeGlobalConfig(
        providerConfig("corp", {
          issuer: h.idp.issuer,
          clientId: "ci-bot",
          clientSecret,
          authFlow: "client_credentials",
        }),
      );
    await write("right-secret");
    const right = await runDoctor(h, "corp");
    expect(right.code).toBe(0);
    expect(right.find("client (headless)")[0]).toMatchObject({
      level: "ok",
      found:
        'the IdP knows "ci-bot" (confidential, client_secret_basic) and accepted its authentication',
    });

    await write("wrong-secret");
    const wrong = await runDoctor(h, "corp");
    expect(wrong.code).toBe(1);
    expect(wrong.find("client (headless)")[0]).toMatchObject({
      level: "error",
      found:
        'the IdP refused "ci-bot" (confidential) with client_secret_basic (HTTP 401: unauthorized_client (Invalid client or Invalid client credentials), the same answer as to a deliberately wrong secret) and with client_secret_post (HTTP 401: unauthorized_client (Invalid client or Invalid client credentials), the same answer as to a deliberately wrong secret).',
    });
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
