// What the user sees when an IdP answers something that is not the OAuth response the
// protocol expects: the endpoint, the HTTP status, the content type and a short excerpt — and
// a refused client named as such, with the clientAuthMethod to try. Against the real IdP with
// the quirks of an independent one (Glewlwyd) in front of it.
import { confidentialClient, publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { excerptOf } from "../src/oidc/idp-answer.js";
import { eventsNamed, type Harness, harness, oauth2ErrorOf } from "./helpers.js";

let h: Harness;
afterEach(async () => h?.close());

const SECRET = "ci-secret-value";

describe("a confidential client an IdP refuses without an OAuth error", () => {
  it("client_secret_basic with ci-bot: named a refused client, with the method to try", async () => {
    h = await harness({
      clients: [confidentialClient("ci-bot", SECRET)],
      quirks: { basicCredentialsNotDecoded: true, emptyErrorBodies: true },
    });
    const engine = h.engine();
    const basic = h.provider(
      { clientId: "ci-bot", clientSecret: SECRET, authFlow: "client_credentials" },
      "ci",
    );
    const err = await oauth2ErrorOf(engine.ensureAccessToken(basic));
    expect(err.code).toBe("client_refused");
    expect(err.message).toContain('provider "ci": the IdP refused the client "ci-bot"');
    expect(err.message).toContain("The token endpoint answered HTTP 403, empty body.");
    expect(err.message).not.toMatch(/issuer URL|invalid response/);
    expect(err.fix).toContain('set "clientAuthMethod": "client_secret_post"');
    expect(err.fix).toMatch(/client id "ci-bot" contains "-".*"%2D"/);
    expect(err.answer).toEqual({
      endpoint: "token",
      status: 403,
      contentType: undefined,
      excerpt: "",
    });
    expect(eventsNamed(h.records, "oauth2_headless_token_failed")[0]).toMatchObject({
      provider: "ci",
      error_code: "client_refused",
      endpoint: "token",
      status: 403,
      body_excerpt: "",
    });

    // Following the fix works.
    const post = h.provider(
      {
        clientId: "ci-bot",
        clientSecret: SECRET,
        clientAuthMethod: "client_secret_post",
        authFlow: "client_credentials",
      },
      "ci",
    );
    const result = await engine.ensureAccessToken(post);
    expect(result).toMatchObject({ status: "ok", source: "headless" });
  });

  it("a wrong secret with client_secret_post: the other method is named, no encoding note", async () => {
    h = await harness({
      clients: [confidentialClient("ci-bot", SECRET)],
      quirks: { basicCredentialsNotDecoded: true, emptyErrorBodies: true },
    });
    const provider = h.provider({
      clientId: "ci-bot",
      clientSecret: "wrong",
      clientAuthMethod: "client_secret_post",
      authFlow: "client_credentials",
    });
    const err = await oauth2ErrorOf(h.engine().ensureAccessToken(provider));
    expect(err.code).toBe("client_refused");
    expect(err.fix).toMatch(/^check clientSecret; .*"clientAuthMethod": "client_secret_basic"$/);
    expect(err.fix).not.toContain("%2D");
  });

  it("a JSON invalid_client keeps the IdP's error and also names the method to try", async () => {
    h = await harness({
      clients: [confidentialClient("ci-bot", SECRET)],
      quirks: { basicCredentialsNotDecoded: true },
    });
    const provider = h.provider({
      clientId: "ci-bot",
      clientSecret: SECRET,
      authFlow: "client_credentials",
    });
    const err = await oauth2ErrorOf(h.engine().ensureAccessToken(provider));
    expect(err.code).toBe("idp_error");
    expect(err.message).toContain(
      "The token endpoint answered HTTP 401: invalid_client (client authentication failed).",
    );
    expect(err.fix).toContain('"clientAuthMethod": "client_secret_post"');
  });
});

describe("answers that are not OAuth", () => {
  it("an unknown public client's empty refusal is a refused client, not an outage", async () => {
    h = await harness({
      clients: [publicNativeClient("cli")],
      quirks: { emptyErrorBodies: true },
    });
    const provider = h.provider({ clientId: "unknown-cli", scopes: "openid" });
    const err = await oauth2ErrorOf(h.engine().startLogin(provider, { flow: "device_code" }));
    expect(err.code).toBe("client_refused");
    expect(err.message).toContain(
      "The device authorization endpoint answered HTTP 403, empty body.",
    );
    expect(err.fix).toContain('IdP knows client "unknown-cli"');
  });

  it("an HTML page is named by status, type and title; a 500 shows its text", async () => {
    h = await harness({ clients: [confidentialClient("svc", "svc-secret")] });
    const provider = h.provider({
      clientId: "svc",
      clientSecret: "svc-secret",
      authFlow: "client_credentials",
    });
    const engine = h.engine();
    h.idp.setFailure("html");
    const html = await oauth2ErrorOf(engine.ensureAccessToken(provider));
    expect(html.code).toBe("idp_bad_response");
    expect(html.message).toContain(
      'The token endpoint answered HTTP 200 (text/html, page "Sign in").',
    );
    expect(html.message).not.toContain("Corporate sign-in");
    expect(html.toLogFields()).toMatchObject({
      endpoint: "token",
      status: 200,
      content_type: "text/html",
      page_title: "Sign in",
      body_excerpt: "Sign in Corporate sign-in",
    });

    h.idp.setFailure("500");
    const failed = await oauth2ErrorOf(engine.ensureAccessToken(provider));
    expect(failed.message).toContain(
      'the IdP failed the client-credentials grant. The token endpoint answered HTTP 500 (text/plain): "Internal Server Error".',
    );

    h.idp.setFailure("invalid-json");
    const truncated = await oauth2ErrorOf(engine.ensureAccessToken(provider));
    expect(truncated.message).toContain(
      "The token endpoint answered HTTP 200 (application/json): not valid JSON.",
    );
    expect(truncated.toLogFields().body_excerpt).toBeUndefined();
  });
});

describe("excerpts", () => {
  it("are bounded, one line, and never carry a token-looking string", () => {
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
    const opaque = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
    const text = excerptOf(
      `bad token ${jwt}\n\nrefresh=${opaque} ${"x ".repeat(300)}`,
      "text/plain",
    );
    expect(text.startsWith("bad token [redacted] refresh=[redacted] x x")).toBe(true);
    expect(text).not.toContain("eyJ");
    expect(text).not.toContain(opaque);
    expect(text.length).toBe(200);
    expect(text.endsWith("…")).toBe(true);
    expect(
      excerptOf("<html><script>var t=1</script><p>Nope &amp; no</p></html>", "text/html"),
    ).toBe("Nope no");
  });
});
