// An IdP whose revocation endpoint wants client credentials (Glewlwyd): a public client's
// revocation gets an empty 401, so `logout` cannot revoke and the refresh token stays active.
// doctor finds it with a revocation of a token that does not exist (RFC 7009: answered 200).
import { readFile } from "node:fs/promises";
import { publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { browserLogin, runDoctor } from "./cli/doctor-report.js";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

describe("doctor's revocation probe", () => {
  it("passes an IdP that lets the public client revoke", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli" }));
    const { code, find } = await runDoctor(h, "corp");
    expect(code).toBe(0);
    expect(find("revocation")).toEqual([
      expect.objectContaining({
        level: "ok",
        found:
          'the IdP accepts revocation requests from the public client "cli" (logout revokes the refresh token)',
      }),
    ]);
  });

  it("warns that logout cannot revoke when the IdP refuses public-client revocation", async () => {
    h = await cliHarness({
      clients: [publicNativeClient("cli")],
      quirks: { publicClientRevocationRefused: true },
    });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli" }));
    const { code, find, report } = await runDoctor(h, "corp");
    // A warning: logins and tokens work.
    expect(code).toBe(0);
    expect(report.errors).toBe(0);
    expect(find("revocation")).toEqual([
      expect.objectContaining({
        level: "warn",
        found:
          'the IdP refuses revocation requests from the public client "cli" (revocation endpoint answered HTTP 401, empty body, to a token that does not exist, which RFC 7009 answers with 200): logout cannot revoke with the client alone, so a refresh token may stay active at the IdP until it expires.',
        fix: "log in and run doctor again: logout also offers the access token as credentials, which some IdPs (Glewlwyd) accept; to end a session at once, sign out at the IdP or have its admin end it",
      }),
    ]);

    // Logged in: the access token is tried too, and refused as well.
    await browserLogin(h);
    const loggedIn = await runDoctor(h, "corp");
    expect(loggedIn.find("revocation")).toEqual([
      expect.objectContaining({
        level: "warn",
        found:
          'the IdP refuses revocation requests from the public client "cli" (revocation endpoint answered HTTP 401, empty body, to a token that does not exist, which RFC 7009 answers with 200), also with the cached access token as credentials: logout cannot revoke, so a refresh token stays active at the IdP until it expires.',
        fix: "logout still deletes the local tokens; to end a session at once, sign out at the IdP or have its admin end it; to let logout revoke, ask the admin to allow revocation by this client (some IdPs accept an access token carrying a scope they name)",
      }),
    ]);
  });

  it("passes an IdP that takes the access token as the revocation's credentials (Glewlwyd)", async () => {
    h = await cliHarness({
      clients: [publicNativeClient("cli")],
      quirks: { publicClientRevocationRefused: true, revocationBearerScope: "api:read" },
    });
    await h.writeGlobalConfig(
      providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", scopes: "openid api:read" }),
    );
    await browserLogin(h);
    const { find, stdout } = await runDoctor(h, "corp");
    expect(find("revocation")).toEqual([
      expect.objectContaining({
        level: "ok",
        found:
          'the IdP refuses revocation requests from the public client "cli" alone but accepts its access token as credentials: logout revokes the refresh token while the access token is valid',
      }),
    ]);
    // The access token went to the IdP, never to the output.
    const { accessToken } = JSON.parse(await readFile(h.tokenFile("corp"), "utf8"));
    expect(stdout).not.toContain(accessToken);
  });

  it("calls another answer inconclusive", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    // A revocation endpoint that is not one: the IdP answers 404.
    await h.writeGlobalConfig(
      providerConfig("corp", {
        issuer: h.idp.issuer,
        clientId: "cli",
        endpoints: {
          authorization: `${h.idp.issuer}/auth`,
          token: h.idp.tokenEndpoint,
          revocation: `${h.idp.issuer}/no-such-endpoint`,
        },
      }),
    );
    const { code, find } = await runDoctor(h, "corp");
    expect(code).toBe(0);
    expect(find("revocation")).toEqual([
      expect.objectContaining({
        level: "warn",
        found: expect.stringMatching(
          /^inconclusive: the revocation endpoint answered HTTP 404.* to the revocation of a token that does not exist \(RFC 7009 answers 200\), so logout may not be able to revoke\.$/,
        ),
      }),
    ]);
  });
});
