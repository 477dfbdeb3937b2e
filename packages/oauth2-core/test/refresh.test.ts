import { fileURLToPath } from "node:url";
import { confidentialClient, startChild } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { OAuth2Error } from "../src/errors.js";
import { refresh } from "../src/flows/refresh.js";
import { clientConfiguration } from "../src/oidc/configuration.js";
import { eventsNamed, type Harness, harness, loggedIn as loggedInSession } from "./helpers.js";

let h: Harness;
afterEach(async () => h?.close());

async function loggedIn(options: { ttl?: number; rotate?: boolean } = {}) {
  const session = await loggedInSession(options);
  h = session.h;
  return session;
}

describe("refresh", () => {
  it("refreshes a token inside the expiry skew and rotates the refresh token", async () => {
    const { engine, provider, first, advance } = await loggedIn({ ttl: 60 });
    advance(31_000); // 29 s left < 30 s skew
    const result = await engine.ensureAccessToken(provider);
    expect(result).toMatchObject({ status: "ok", source: "refresh" });
    if (result.status !== "ok") return;
    expect(result.accessToken).not.toBe(first.accessToken);
    await h.idp.verifyAccessToken(result.accessToken);
    const cached = await engine.cached(provider);
    if (cached.kind !== "ok") throw new Error("no token");
    expect(cached.token.refreshToken).not.toBe(first.refreshToken);
    expect(eventsNamed(h.records, "oauth2_token_refreshed")[0]).toMatchObject({ rotated: true });
    // The rotated-away refresh token is dead at the IdP.
    const config = await clientConfiguration(provider, provider.loginClient);
    const reuse = await refresh(provider, config, first.refreshToken as string).catch(
      (e: unknown) => e,
    );
    expect((reuse as OAuth2Error).idp?.error).toBe("invalid_grant");
  });

  it("keeps the old refresh token when the IdP does not rotate", async () => {
    const { engine, provider, first, advance } = await loggedIn({ rotate: false });
    advance(400_000);
    const result = await engine.ensureAccessToken(provider);
    expect(result).toMatchObject({ status: "ok", source: "refresh" });
    const cached = await engine.cached(provider);
    if (cached.kind !== "ok") throw new Error("no token");
    expect(cached.token.refreshToken).toBe(first.refreshToken);
  });

  it("shares one in-flight refresh between concurrent callers", async () => {
    const { engine, provider, advance } = await loggedIn();
    advance(400_000);
    const results = await Promise.all(
      Array.from({ length: 25 }, () => engine.ensureAccessToken(provider)),
    );
    expect(new Set(results.map((r) => (r.status === "ok" ? r.accessToken : r.status))).size).toBe(
      1,
    );
    expect(h.idp.countGrants("refresh_token")).toBe(1);
    expect(h.idp.grantErrors).toEqual([]);
  });

  it("turns a revoked refresh token into login_required with the IdP's error logged", async () => {
    const { engine, provider, first, advance } = await loggedIn();
    expect(await h.idp.revokeRefreshToken(first.refreshToken as string)).toBe(true);
    advance(400_000);
    const result = await engine.ensureAccessToken(provider);
    expect(result).toMatchObject({
      status: "login_required",
      reason: "refresh_rejected",
      command: "opencode-oauth2 login corp",
    });
    expect(eventsNamed(h.records, "oauth2_token_refresh_failed")[0]).toMatchObject({
      error: "invalid_grant",
    });
    // The dead refresh token is never sent again.
    const refreshes = h.idp.countGrants("refresh_token");
    await engine.ensureAccessToken(provider);
    expect(h.idp.countGrants("refresh_token")).toBe(refreshes);
  });

  it("returns a still-valid token when the IdP is down, and a named error once it expired", async () => {
    const { engine, provider, first, advance } = await loggedIn({ ttl: 60 });
    await h.idp.stop();
    advance(40_000); // inside the skew, not yet expired
    expect(await engine.ensureAccessToken(provider)).toMatchObject({
      status: "ok",
      accessToken: first.accessToken,
    });
    advance(30_000); // expired
    const err = await engine.ensureAccessToken(provider).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuth2Error);
    expect((err as OAuth2Error).code).toBe("idp_unreachable");
    await h.idp.start();
  });

  it("invalidate() after a 401 forces exactly one refresh", async () => {
    const { engine, provider, first } = await loggedIn();
    expect(await engine.invalidate(provider, first.accessToken)).toBe(true);
    expect(await engine.invalidate(provider, "some-other-token")).toBe(false);
    const result = await engine.ensureAccessToken(provider);
    expect(result).toMatchObject({ status: "ok", source: "refresh" });
    expect(h.idp.countGrants("refresh_token")).toBe(1);
  });

  it("two OS processes on one expired token: one refresh, both get the new token, no invalid_grant", async () => {
    const { engine, provider } = await loggedIn();
    const cached = await engine.cached(provider);
    if (cached.kind !== "ok") throw new Error("no token");
    await engine.invalidate(provider, cached.token.accessToken);
    const worker = fileURLToPath(new URL("./fixtures/ensure-worker.mjs", import.meta.url));
    const run = async () => {
      const result = await startChild(process.execPath, [worker], {
        env: { ...process.env, ISSUER: h.idp.issuer, CACHE_DIR: h.cacheDir },
      }).done;
      if (result.code !== 0) throw new Error(`worker exited ${result.code}: ${result.stderr}`);
      return result.stdout.trim();
    };
    const [a, b] = await Promise.all([run(), run()]);
    expect(h.idp.countGrants("refresh_token")).toBe(1);
    expect(h.idp.grantErrors).toEqual([]);
    expect(a).toBe(b);
    const after = await engine.cached(provider);
    if (after.kind !== "ok") throw new Error("no token");
    expect(a).toBe(after.token.accessToken.slice(-12));
  });
});

describe("headless flows", () => {
  it("client credentials: minted without a user, then served from cache", async () => {
    h = await harness({ clients: [confidentialClient("svc", "svc-secret")] });
    const engine = h.engine();
    const provider = h.provider({
      clientId: "svc",
      clientSecret: "svc-secret",
      authFlow: "client_credentials",
    });
    const result = await engine.ensureAccessToken(provider);
    expect(result).toMatchObject({ status: "ok", source: "headless" });
    if (result.status !== "ok") return;
    expect((await h.idp.verifyAccessToken(result.accessToken)).client_id).toBe("svc");
    expect(await engine.ensureAccessToken(provider)).toMatchObject({ source: "cache" });
    expect(h.idp.countGrants("client_credentials")).toBe(1);
  });

  it("client credentials with a wrong secret shows invalid_client and the fix", async () => {
    h = await harness({ clients: [confidentialClient("svc", "svc-secret")] });
    const provider = h.provider({
      clientId: "svc",
      clientSecret: "wrong",
      authFlow: "client_credentials",
    });
    const err = await h
      .engine()
      .ensureAccessToken(provider)
      .catch((e: unknown) => e as OAuth2Error);
    expect(err).toBeInstanceOf(OAuth2Error);
    expect((err as OAuth2Error).idp?.error).toBe("invalid_client");
    expect((err as OAuth2Error).message).not.toContain("wrong");
  });

  it("token exchange trades a subject token from an env var or a file", async () => {
    h = await harness({
      clients: [confidentialClient("svc", "svc-secret")],
      acceptedSubjectTokens: ["k8s-sa-token"],
    });
    const fromEnv = h.provider({
      clientId: "svc",
      clientSecret: "svc-secret",
      authFlow: "token_exchange",
      subjectToken: { env: "SA_TOKEN" },
    });
    const ok = await h.engine({ env: { SA_TOKEN: "k8s-sa-token" } }).ensureAccessToken(fromEnv);
    expect(ok).toMatchObject({ status: "ok", source: "headless" });
    if (ok.status === "ok") await h.idp.verifyAccessToken(ok.accessToken);

    const { writeFile } = await import("node:fs/promises");
    const file = `${h.cacheDir}/sa-token`;
    await writeFile(file, "not-a-known-token\n");
    const fromFile = h.provider(
      {
        clientId: "svc",
        clientSecret: "svc-secret",
        authFlow: "token_exchange",
        subjectToken: { file },
      },
      "other",
    );
    const err = await h
      .engine()
      .ensureAccessToken(fromFile)
      .catch((e: unknown) => e as OAuth2Error);
    expect((err as OAuth2Error).idp?.error).toBe("invalid_grant");
    expect((err as OAuth2Error).message).not.toContain("not-a-known-token");
  });

  it("an IdP that answers HTML, invalid JSON or a 500 gives a named error", async () => {
    h = await harness({ clients: [confidentialClient("svc", "svc-secret")] });
    const provider = h.provider({
      clientId: "svc",
      clientSecret: "svc-secret",
      authFlow: "client_credentials",
    });
    for (const mode of ["html", "invalid-json", "500"] as const) {
      h.idp.setFailure(mode);
      const err = await h
        .engine()
        .ensureAccessToken(provider)
        .catch((e: unknown) => e as OAuth2Error);
      expect(err, mode).toBeInstanceOf(OAuth2Error);
      expect(["idp_bad_response", "idp_error"], mode).toContain((err as OAuth2Error).code);
      expect((err as OAuth2Error).fix.length).toBeGreaterThan(10);
    }
  });

  it("an IdP that hangs is abandoned after httpTimeoutMs", async () => {
    h = await harness({ clients: [confidentialClient("svc", "svc-secret")] });
    const provider = h.provider({
      clientId: "svc",
      clientSecret: "svc-secret",
      authFlow: "client_credentials",
      httpTimeoutMs: 1000,
    });
    await h.engine().ensureAccessToken(provider); // discovery cached while healthy
    h.idp.setFailure("hang");
    const started = Date.now();
    const err = await h
      .engine()
      .ensureAccessToken(
        h.provider(
          {
            clientId: "svc",
            clientSecret: "svc-secret",
            authFlow: "client_credentials",
            httpTimeoutMs: 1000,
          },
          "second",
        ),
      )
      .catch((e: unknown) => e as OAuth2Error);
    expect((err as OAuth2Error).code).toBe("idp_unreachable");
    expect(Date.now() - started).toBeLessThan(10_000);
    h.idp.setFailure(null);
  });
});
