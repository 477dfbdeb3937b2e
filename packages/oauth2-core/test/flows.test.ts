import { stat } from "node:fs/promises";
import { confidentialClient, publicNativeClient } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { OAuth2Error } from "../src/errors.js";
import { eventsNamed, type Harness, harness } from "./helpers.js";

let h: Harness;
afterEach(async () => h?.close());

const rejects = async (promise: Promise<unknown>): Promise<OAuth2Error> => {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(OAuth2Error);
    return err as OAuth2Error;
  }
  throw new Error("expected a rejection");
};

describe("authorization code + PKCE with a public native client", () => {
  it("logs in through the loopback listener, validates the id_token and caches a 0600 token", async () => {
    h = await harness({ clients: [publicNativeClient("cli")], pkceRequired: true });
    const engine = h.engine();
    const provider = h.provider({ clientId: "cli", scopes: "openid offline_access" });
    const result = await engine.ensureAccessToken(provider, { interactive: true });
    expect(result).toMatchObject({ status: "ok", source: "login" });
    if (result.status !== "ok") return;
    const claims = await h.idp.verifyAccessToken(result.accessToken);
    expect(claims.client_id).toBe("cli");
    const cached = await engine.cached(provider);
    expect(cached.kind).toBe("ok");
    if (cached.kind !== "ok") return;
    expect(cached.token.refreshToken).toBeTruthy();
    expect(cached.token.idToken).toBeTruthy();
    expect(cached.token.subject).toBe("test-user");
    expect((await stat(engine.store.pathFor("corp"))).mode & 0o777).toBe(0o600);
    // The code was exchanged without any client authentication (public client, PKCE).
    expect(h.idp.tokenRequests.at(-1)).toMatchObject({
      grantType: "authorization_code",
      clientId: "cli",
    });

    // A valid cached token costs no network call.
    const before = h.idp.tokenRequests.length;
    const again = await engine.ensureAccessToken(provider);
    expect(again).toMatchObject({ status: "ok", source: "cache", accessToken: result.accessToken });
    expect(h.idp.tokenRequests.length).toBe(before);
  });

  it("shows the IdP's error when the user declines", async () => {
    h = await harness({ clients: [publicNativeClient("cli")] });
    const engine = h.engine({
      openBrowser: async (url) => {
        void h.browser.authorize(url, { deny: true, followCallback: true });
        return true;
      },
    });
    const err = await rejects(engine.login(h.provider({ clientId: "cli" })));
    expect(err.idp?.error).toBe("access_denied");
    expect(err.message).toMatch(/The IdP answered: access_denied/);
    expect(eventsNamed(h.records, "oauth2_login_failed")[0]).toMatchObject({
      error: "access_denied",
    });
  });

  it("rejects a callback whose RFC 9207 iss is not the issuer", async () => {
    h = await harness({ clients: [publicNativeClient("cli")] });
    const engine = h.engine({
      openBrowser: async (url) => {
        void h.browser.authorize(url).then(({ callbackUrl }) => {
          const forged = new URL(callbackUrl);
          expect(forged.searchParams.get("iss")).toBe(h.idp.issuer);
          forged.searchParams.set("iss", "https://evil.example.com");
          return fetch(forged);
        });
        return true;
      },
    });
    const err = await rejects(engine.login(h.provider({ clientId: "cli" })));
    expect(err.message).toMatch(/iss/);
    expect(h.idp.countGrants("authorization_code")).toBe(0);
  });

  it("fails with the IdP's invalid_grant when the verifier does not match the challenge", async () => {
    h = await harness({ clients: [publicNativeClient("cli")], pkceRequired: true });
    // A proxy that corrupts the verifier on its way to the token endpoint.
    const engine = h.engine({
      fetch: async (url, init) => {
        if (init?.body instanceof URLSearchParams && init.body.has("code_verifier")) {
          init.body.set("code_verifier", "x".repeat(43));
        }
        return fetch(url, init);
      },
    });
    const err = await rejects(engine.login(h.provider({ clientId: "cli" })));
    expect(err.idp).toMatchObject({ error: "invalid_grant" });
    // oidc-provider does not say why; what it does say reaches the user verbatim.
    expect(err.idp?.error_description).toBe("grant request is invalid");
    expect(err.message).toContain("invalid_grant (grant request is invalid)");
  });

  it("fails with the IdP's invalid_grant when a code is replayed", async () => {
    h = await harness({ clients: [publicNativeClient("cli")] });
    let firstExchange: URLSearchParams | undefined;
    const engine = h.engine({
      fetch: async (url, init) => {
        if (
          init?.body instanceof URLSearchParams &&
          init.body.get("grant_type") === "authorization_code"
        ) {
          if (!firstExchange) firstExchange = new URLSearchParams(init.body);
          else return fetch(url, { ...init, body: firstExchange });
        }
        return fetch(url, init);
      },
    });
    const provider = h.provider({ clientId: "cli" });
    await engine.login(provider);
    const err = await rejects(engine.login(provider));
    expect(err.idp?.error).toBe("invalid_grant");
    expect(err.fix).toMatch(/opencode-oauth2 login corp/);
  });

  it("times out a login nobody finishes and leaves nothing listening", async () => {
    h = await harness({ clients: [publicNativeClient("cli")] });
    const engine = h.engine({ openBrowser: async () => false });
    const provider = h.provider({ clientId: "cli", loginTimeoutMs: 1000 });
    const pending = await engine.startLogin(provider);
    if (pending.kind !== "browser") throw new Error("expected a browser login");
    const err = await rejects(pending.complete());
    expect(err.code).toBe("login_timeout");
    await expect(fetch(pending.redirectUri)).rejects.toThrow();
  });

  it("binds the listener to 127.0.0.1 on the configured redirectPort", async () => {
    h = await harness({ clients: [publicNativeClient("cli")] });
    const engine = h.engine({ openBrowser: async () => false });
    const probe = (await import("node:net")).createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, "127.0.0.1", () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise((resolve) => probe.close(resolve));
    const pending = await engine.startLogin(
      h.provider({ clientId: "cli", redirectPort: port, redirectPath: "/cb" }),
    );
    if (pending.kind !== "browser") throw new Error("expected a browser login");
    expect(pending.redirectUri).toBe(`http://127.0.0.1:${port}/cb`);
    expect(new URL(pending.url).searchParams.get("redirect_uri")).toBe(pending.redirectUri);
    expect(new URL(pending.url).searchParams.get("code_challenge_method")).toBe("S256");
    pending.cancel();
  });
});

async function freePort(): Promise<number> {
  const probe = (await import("node:net")).createServer();
  const port = await new Promise<number>((resolve) =>
    probe.listen(0, "127.0.0.1", () => resolve((probe.address() as { port: number }).port)),
  );
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe("the loopback listener and a login that cannot complete", () => {
  it("ignores callbacks with another state, answers them neutrally and keeps waiting", async () => {
    h = await harness({ clients: [publicNativeClient("cli")] });
    const engine = h.engine({ openBrowser: async () => false });
    const provider = h.provider({ clientId: "cli" });
    const pending = await engine.startLogin(provider);
    if (pending.kind !== "browser") throw new Error("expected a browser login");

    for (const query of ["?code=forged&state=forged", "?error=access_denied", "?code=forged"]) {
      const forged = await fetch(`${pending.redirectUri}${query}`);
      expect(forged.status).toBe(400);
      const page = await forged.text();
      expect(page).toContain("<title>This is not the login you started</title>");
      expect(page).not.toContain("Login complete");
    }
    expect(eventsNamed(h.records, "oauth2_login_callback_ignored")).toEqual([
      expect.objectContaining({ provider: "corp", reason: "state_mismatch" }),
      expect.objectContaining({ provider: "corp", reason: "state_missing" }),
      expect.objectContaining({ provider: "corp", reason: "state_missing" }),
    ]);

    // The real callback still ends the login, and its page says so.
    const { callbackResponse } = await h.browser.authorize(pending.url, { followCallback: true });
    expect(await callbackResponse?.text()).toContain("Login complete");
    const token = await pending.complete();
    await h.idp.verifyAccessToken(token.accessToken);
  });

  it("names the redirect URI and redirectPort when an exact-match IdP never calls back", async () => {
    const port = await freePort();
    const registered = `http://127.0.0.1:${port}/callback`;
    h = await harness({
      clients: [publicNativeClient("cli", { redirect_uris: [registered] })],
      quirks: { exactRedirectUris: true },
    });
    const pages: number[] = [];
    const engine = h.engine({
      openBrowser: async (url) => {
        void h.browser.request(url).then((page) => pages.push(page.status));
        return true;
      },
    });
    const random = h.provider({ clientId: "cli", loginTimeoutMs: 1500 });
    const err = await rejects(engine.login(random));
    expect(pages).toEqual([403]); // what the user saw in the browser: the IdP's error page
    expect(err.code).toBe("login_timeout");
    const sent = /no callback reached (http:\/\/127\.0\.0\.1:(\d+)\/callback)\./.exec(err.message);
    expect(sent?.[2]).not.toBe(String(port));
    expect(err.message).toMatch(
      /^provider "corp": the browser login did not complete within 1\.5 s: no callback reached http:\/\/127\.0\.0\.1:\d+\/callback\. Fix: likely causes: \(1\) the IdP does not accept the redirect URI http:\/\/127\.0\.0\.1:\d+\/callback, whose port \d+ was picked at random/,
    );
    expect(err.fix).toContain(
      'set "redirectPort" to a fixed free port, e.g. 8765, and register http://127.0.0.1:8765/callback for the client at the IdP',
    );
    expect(err.fix).toContain("(2) the browser tab was closed before the login finished");
    expect(eventsNamed(h.records, "oauth2_login_failed").at(-1)).toMatchObject({
      error_code: "login_timeout",
    });

    // Following the fix: the registered port works.
    const fixed = h.provider({ clientId: "cli", redirectPort: port });
    const ok = h.engine();
    const token = await ok.login(fixed);
    await h.idp.verifyAccessToken(token.accessToken);
  });
});

describe("public and confidential clients in one provider (web UI + CLI realm)", () => {
  it("logs in with the public CLI client and mints headless tokens with the confidential one", async () => {
    h = await harness({
      clients: [publicNativeClient("opencode-cli"), confidentialClient("llm-web", "web-secret")],
      quirks: { rejectSecretForPublicExchange: true },
    });
    const engine = h.engine();
    const provider = h.provider({
      clientId: "llm-web",
      clientSecret: "web-secret",
      interactiveClient: { clientId: "opencode-cli" },
      headlessFlow: "client_credentials",
    });
    // No user, no TTY: the confidential client's grant runs.
    const headless = await engine.ensureAccessToken(provider);
    expect(headless).toMatchObject({ status: "ok", source: "headless" });
    expect(h.idp.tokenRequests.at(-1)).toMatchObject({
      grantType: "client_credentials",
      clientId: "llm-web",
    });
    // An interactive login uses the public client and never sends the secret (Entra would refuse).
    const login = await engine.login(provider);
    expect(login.binding.clientId).toBe("opencode-cli");
    expect(h.idp.grantErrors).toEqual([]);
  });

  it("shows Entra's refusal and the fix when a public client is configured with a secret", async () => {
    h = await harness({
      clients: [publicNativeClient("opencode-cli")],
      quirks: { rejectSecretForPublicExchange: true },
    });
    const engine = h.engine();
    const err = await rejects(
      engine.login(
        h.provider({
          clientId: "opencode-cli",
          clientSecret: "leaked",
          clientType: "confidential",
        }),
      ),
    );
    expect(err.idp?.error).toBe("invalid_client");
    expect(err.idp?.error_description).toMatch(/AADSTS700025/);
    expect(err.fix).toMatch(/remove clientSecret/);
  });
});
