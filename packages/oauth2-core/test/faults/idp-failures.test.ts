// The IdP answers an HTML page, invalid JSON, a 500, or hangs — on discovery and on the token
// endpoint. Every path of the engine (headless grant, login start, refresh) gives a named
// OAuth2Error with a fix, within httpTimeoutMs for a hang; nothing crashes and no promise is
// left rejected unhandled. A token that is still valid keeps being served.
import { confidentialClient, type FailureMode, publicNativeClient } from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderConfig } from "../../src/config/schema.js";
import { OAuth2Error, type OAuth2ErrorCode } from "../../src/errors.js";
import { clearDiscoveryCache } from "../../src/oidc/configuration.js";
import { eventsNamed, type Harness, harness } from "../helpers.js";

const MODES: FailureMode[] = ["html", "invalid-json", "500", "hang"];
const HTTP_TIMEOUT_MS = 1000;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
});

afterAll(async () => {
  // Let any stray rejection surface before the check.
  await new Promise((r) => setTimeout(r, 50));
  expect(unhandled).toEqual([]);
});

/** Each test owns its IdP and closes it, so the tests can run at once (hangs cost seconds). */
async function withSetup(test: (s: Awaited<ReturnType<typeof setup>>) => Promise<void>) {
  const s = await setup();
  try {
    await test(s);
  } finally {
    await s.h.close();
  }
}

async function setup() {
  const h: Harness = await harness({
    clients: [publicNativeClient("cli"), confidentialClient("svc", "svc-secret")],
  });
  const common = { httpTimeoutMs: HTTP_TIMEOUT_MS, tokenExpirySkewMs: 30_000 };
  return {
    h,
    headless: h.provider(
      { clientId: "svc", clientSecret: "svc-secret", authFlow: "client_credentials", ...common },
      "svc",
    ),
    human: h.provider({ clientId: "cli", scopes: "openid offline_access", ...common }, "corp"),
  };
}

/** Runs `work`, which must fail with an OAuth2Error; returns it and how long it took. */
async function failure(work: () => Promise<unknown>): Promise<{ err: OAuth2Error; ms: number }> {
  const started = Date.now();
  let outcome: unknown;
  try {
    outcome = await work();
  } catch (err) {
    expect(err).toBeInstanceOf(OAuth2Error);
    return { err: err as OAuth2Error, ms: Date.now() - started };
  }
  throw new Error(`expected an OAuth2Error, got ${JSON.stringify(outcome)}`);
}

function expectNamed(err: OAuth2Error, provider: ProviderConfig, codes: OAuth2ErrorCode[]): void {
  expect(err.name).toBe("OAuth2Error");
  expect(codes).toContain(err.code);
  expect(err.providerId).toBe(provider.id);
  expect(err.message).toContain(`provider "${provider.id}"`);
  expect(err.fix.length).toBeGreaterThan(10);
  // The page the IdP sent is not pasted into the user's error.
  expect(err.message).not.toContain("Corporate sign-in");
  expect(err.message).not.toContain("<html");
}

const discoveryCodes = (mode: FailureMode): OAuth2ErrorCode[] =>
  mode === "hang" ? ["idp_unreachable"] : ["discovery_failed"];
const tokenCodes = (mode: FailureMode): OAuth2ErrorCode[] =>
  mode === "hang" ? ["idp_unreachable"] : ["idp_bad_response"];

describe.concurrent("an IdP that answers garbage or nothing", () => {
  it.each(MODES)(
    "%s on discovery: headless grant, login start and refresh each fail by name",
    (mode) =>
      withSetup(async ({ h, headless, human }) => {
        const engine = h.engine();
        await engine.login(human); // while the IdP is healthy
        const cached = await engine.cached(human);
        if (cached.kind !== "ok") throw new Error("no token");

        clearDiscoveryCache();
        h.idp.setFailure(mode, { discovery: true });

        const grant = await failure(() => engine.ensureAccessToken(headless));
        expectNamed(grant.err, headless, discoveryCodes(mode));
        expect(grant.ms).toBeLessThan(HTTP_TIMEOUT_MS + 4000);

        const login = await failure(() => engine.startLogin(human));
        expectNamed(login.err, human, discoveryCodes(mode));

        await engine.invalidate(human, cached.token.accessToken);
        const refresh = await failure(() => engine.ensureAccessToken(human));
        expectNamed(refresh.err, human, discoveryCodes(mode));
        expect(refresh.ms).toBeLessThan(HTTP_TIMEOUT_MS + 4000);

        for (const event of [
          "oauth2_discovery_failed",
          "oauth2_headless_token_failed",
          "oauth2_login_failed",
          "oauth2_token_refresh_failed",
        ]) {
          expect(eventsNamed(h.records, event).length, event).toBeGreaterThan(0);
        }
        // The refresh token was not thrown away: the IdP never refused it, it was just not there.
        const after = await engine.cached(human);
        expect(after.kind === "ok" && after.token.refreshToken).toBe(cached.token.refreshToken);
      }),
  );

  it.each(MODES)(
    "%s on the token endpoint: an expired token fails by name, a valid one is still served",
    (mode) =>
      withSetup(async ({ h, headless, human }) => {
        let clockOffset = 0;
        const engine = h.engine({ now: () => Date.now() + clockOffset });
        const first = await engine.login(human);
        h.idp.setFailure(mode);

        const grant = await failure(() => engine.ensureAccessToken(headless));
        expectNamed(grant.err, headless, tokenCodes(mode));
        expect(grant.ms).toBeLessThan(HTTP_TIMEOUT_MS + 4000);

        // Inside the expiry skew but not expired: the refresh fails, the current token is served.
        clockOffset = 300_000 - 20_000;
        expect(await engine.ensureAccessToken(human)).toMatchObject({
          status: "ok",
          accessToken: first.accessToken,
        });
        // Expired: the refresh failure is the answer.
        clockOffset = 400_000;
        const refresh = await failure(() => engine.ensureAccessToken(human));
        expectNamed(refresh.err, human, tokenCodes(mode));
        expect(eventsNamed(h.records, "oauth2_token_refresh_failed").at(-1)).toMatchObject({
          provider: "corp",
          error_code: tokenCodes(mode)[0],
        });

        // Once the IdP recovers, the same refresh token still works: nothing was burnt.
        h.idp.setFailure(null);
        expect(await engine.ensureAccessToken(human)).toMatchObject({
          status: "ok",
          source: "refresh",
        });
        expect(h.idp.grantErrors).toEqual([]);
      }),
  );
});
