// doctor's probe of the authorization endpoint: the login's own authorization request (no user
// logs in, nothing is minted) sent with two loopback redirect ports, to see whether the IdP
// accepts any port (RFC 8252 §7.3) or compares redirect URIs exactly; and whether it refuses
// the PKCE parameters.
import { publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, runDoctor } from "./cli/doctor-report.js";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

describe("doctor's authorization endpoint probe", () => {
  it("passes an IdP that accepts any loopback port", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli" }));
    const { code, find } = await runDoctor(h, "corp");
    expect(code).toBe(0);
    expect(find("redirect uri")).toEqual([
      expect.objectContaining({
        level: "ok",
        found:
          "the IdP accepts a loopback redirect URI on any port (RFC 8252), as the browser login needs",
      }),
    ]);
    // No login happened, nothing was minted.
    expect(h.idp.tokenRequests.map((r) => r.grantType)).toEqual(["refresh_token"]);

    const port = await freePort();
    await h.writeGlobalConfig(
      providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", redirectPort: port }),
    );
    const fixed = await runDoctor(h, "corp");
    expect(fixed.find("redirect uri")[0]).toMatchObject({
      level: "ok",
      found: `the IdP accepts http://127.0.0.1:${port}/callback (and a loopback redirect URI on any port)`,
    });
  });

  it("reports a login request the IdP sends back with an error", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    // prompt=none without a session at the IdP: every browser login would end like this.
    await h.writeGlobalConfig(
      providerConfig("corp", {
        issuer: h.idp.issuer,
        clientId: "cli",
        authorizationParams: { prompt: "none" },
      }),
    );
    const { find } = await runDoctor(h, "corp");
    expect(find("authorization")).toEqual([
      expect.objectContaining({
        level: "warn",
        found:
          "the IdP sent the login request back to the redirect URI with login_required (End-User authentication is required): the browser login fails the same way.",
        fix: "fix what the IdP names (the client's grant types, scopes, audience/resource, authorizationParams)",
      }),
    ]);
    // The redirect URI itself was accepted: the IdP redirected to it.
    expect(find("redirect uri")[0]?.level).toBe("ok");
  });

  it("reports an authorization endpoint it cannot reach", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    const closed = `http://127.0.0.1:${await freePort()}/auth`;
    await h.writeGlobalConfig(
      providerConfig("corp", {
        issuer: h.idp.issuer,
        clientId: "cli",
        endpoints: { authorization: closed, token: h.idp.tokenEndpoint },
      }),
    );
    const { code, find } = await runDoctor(h, "corp");
    expect(code).toBe(1);
    expect(find("redirect uri")).toEqual([
      expect.objectContaining({
        level: "error",
        found: expect.stringMatching(
          /^could not probe the authorization endpoint: the IdP could not be reached \(the browser login/,
        ),
        fix: "check the issuer URL, your network and proxy settings, and that the IdP is up",
      }),
    ]);
  });

  it("reports exact redirect URI matching, with redirectPort as the fix", async () => {
    const registered = await freePort();
    h = await cliHarness({
      clients: [
        publicNativeClient("cli", {
          redirect_uris: [`http://127.0.0.1:${registered}/callback`],
        }),
      ],
      quirks: { exactRedirectUris: true },
    });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli" }));
    const any = await runDoctor(h, "corp");
    expect(any.code).toBe(1);
    expect(any.find("redirect uri")).toEqual([
      expect.objectContaining({
        level: "error",
        found: expect.stringMatching(
          /^the IdP refused the login request with http:\/\/127\.0\.0\.1:\d+\/callback and http:\/\/127\.0\.0\.1:\d+\/callback \(authorization endpoint answered HTTP 403 \(text\/html, page "403 Forbidden"\)\): it compares redirect URIs exactly, so a login on a free port never comes back\.$/,
        ),
        fix: 'set "redirectPort" to a free port from 1024 up (e.g. 8765) and register http://127.0.0.1:<port>/callback for client "cli" at the IdP',
      }),
    ]);

    // The fix: redirectPort, with that URI registered.
    await h.writeGlobalConfig(
      providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", redirectPort: registered }),
    );
    const fixed = await runDoctor(h, "corp");
    expect(fixed.code).toBe(0);
    expect(fixed.find("redirect uri")[0]).toMatchObject({
      level: "ok",
      found: `the IdP accepts http://127.0.0.1:${registered}/callback (it compares redirect URIs exactly: other ports are refused)`,
    });

    // A fixed port that is not the registered one.
    const other = await freePort();
    await h.writeGlobalConfig(
      providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", redirectPort: other }),
    );
    const wrongPort = await runDoctor(h, "corp");
    expect(wrongPort.code).toBe(1);
    expect(wrongPort.find("redirect uri")[0]).toMatchObject({
      level: "error",
      found: `the IdP refused the login request with redirect URI http://127.0.0.1:${other}/callback (authorization endpoint answered HTTP 403 (text/html, page "403 Forbidden")).`,
      fix: `register http://127.0.0.1:${other}/callback for client "cli" at the IdP (exactly: 127.0.0.1, the port, the path), or set redirectPort to the port of a registered one`,
    });
  });

  it("reports an IdP that refuses the PKCE parameters, though its metadata advertises S256", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")], quirks: { rejectPkce: true } });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli" }));
    const { code, find } = await runDoctor(h, "corp");
    expect(code).toBe(1);
    expect(find("pkce")).toEqual([
      expect.objectContaining({
        level: "error",
        found:
          "the IdP advertises S256, but its authorization endpoint refused the PKCE parameters (HTTP 400: invalid_request (code_challenge is not supported)).",
        fix: 'set "pkce": false',
      }),
    ]);
    // The redirect URI check still ran, without PKCE.
    expect(find("redirect uri")[0]?.level).toBe("ok");

    await h.writeGlobalConfig(
      providerConfig("corp", { issuer: h.idp.issuer, clientId: "cli", pkce: false }),
    );
    const fixed = await runDoctor(h, "corp");
    expect(fixed.code).toBe(0);

    // Configured endpoints, no discovery: nothing advertised, the probe still finds it.
    await h.writeGlobalConfig(
      providerConfig("corp", {
        issuer: h.idp.issuer,
        clientId: "cli",
        endpoints: { authorization: `${h.idp.issuer}/auth`, token: h.idp.tokenEndpoint },
      }),
    );
    const configured = await runDoctor(h, "corp");
    expect(configured.find("pkce")).toEqual([
      expect.objectContaining({
        level: "error",
        found:
          "the IdP's authorization endpoint refused the PKCE parameters (HTTP 400: invalid_request (code_challenge is not supported)).",
      }),
    ]);
  });

  it("skips the probe when the IdP does not know the client", async () => {
    h = await cliHarness({ clients: [publicNativeClient("cli")] });
    await h.writeGlobalConfig(providerConfig("corp", { issuer: h.idp.issuer, clientId: "ghost" }));
    const { find } = await runDoctor(h, "corp");
    expect(find("client (login)")[0]?.level).toBe("error");
    expect(find("redirect uri")).toEqual([
      expect.objectContaining({
        level: "ok",
        found: "not probed: the IdP refused the client, see client (login)",
      }),
    ]);
  });
});
