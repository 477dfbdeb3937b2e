// A refresh that gets anything but invalid_grant keeps the refresh token: an IdP in
// maintenance, a client secret being rotated, a proxy that wants credentials, an IdP that
// answers without a body. The user sees what came back and that nothing was lost; once the
// IdP answers again, the same refresh token works — no login.
import type { FailureMode } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import type { OAuth2ErrorCode } from "../../src/errors.js";
import { eventsNamed, type Harness, loggedIn, oauth2ErrorOf } from "../helpers.js";

let h: Harness | undefined;
afterEach(async () => h?.close());

const CASES: { mode: FailureMode; code: OAuth2ErrorCode; says: string; reason: string }[] = [
  {
    mode: "temporarily_unavailable",
    code: "idp_error",
    reason: "temporarily_unavailable",
    says: "The token endpoint answered HTTP 503: temporarily_unavailable (The service is in maintenance).",
  },
  {
    mode: "invalid_client",
    code: "idp_error",
    reason: "invalid_client",
    says: "The token endpoint answered HTTP 401: invalid_client (client authentication failed).",
  },
  {
    mode: "proxy-401",
    code: "client_refused",
    reason: "client_refused",
    says: 'The token endpoint answered HTTP 401 (text/html, page "Proxy authentication required", WWW-Authenticate: Basic realm="corporate proxy").',
  },
  {
    mode: "empty-400",
    code: "idp_bad_response",
    reason: "idp_bad_response",
    says: "The token endpoint answered HTTP 400, empty body.",
  },
];

describe("a refresh refused for another reason than invalid_grant", () => {
  it.each(CASES)(
    "$mode: a typed error, the refresh token kept, a refresh once it clears",
    async ({ mode, code, says, reason }) => {
      const session = await loggedIn();
      h = session.h;
      const { engine, provider, first, advance } = session;
      advance(400_000); // expired
      session.h.idp.setFailure(mode);

      const err = await oauth2ErrorOf(engine.ensureAccessToken(provider));
      expect(err.code).toBe(code);
      expect(err.message).toContain('provider "corp": the IdP ');
      expect(err.message).toContain(says);
      expect(err.fix).toMatch(
        /\(the refresh token was kept: once this is fixed, the next request refreshes without a login\)$/,
      );
      if (mode === "proxy-401") {
        expect(err.fix).toMatch(/^a proxy in front of the IdP may want credentials/);
      }
      const cached = await engine.cached(provider);
      expect(cached.kind === "ok" && cached.token.refreshToken).toBe(first.refreshToken);
      expect(eventsNamed(session.h.records, "oauth2_refresh_token_kept")).toEqual([
        expect.objectContaining({ provider: "corp", reason, endpoint: "token", error_code: code }),
      ]);

      // A second ensure tries again with the same refresh token, and so does the recovery.
      await oauth2ErrorOf(engine.ensureAccessToken(provider));
      session.h.idp.setFailure(null);
      expect(await engine.ensureAccessToken(provider)).toMatchObject({
        status: "ok",
        source: "refresh",
      });
      const hashes = session.h.idp.tokenRequests
        .filter((r) => r.grantType === "refresh_token")
        .map((r) => r.refreshTokenHash);
      expect(hashes).toHaveLength(3);
      expect(new Set(hashes).size).toBe(1);
      expect(session.h.idp.grantErrors).toEqual([]);
    },
  );

  it("a token that has not expired yet is still served while the refresh is refused", async () => {
    const session = await loggedIn({ ttl: 60 });
    h = session.h;
    session.advance(40_000); // inside the 30 s skew, 20 s left
    session.h.idp.setFailure("temporarily_unavailable");
    expect(await session.engine.ensureAccessToken(session.provider)).toMatchObject({
      status: "ok",
      source: "cache",
      accessToken: session.first.accessToken,
    });
    expect(eventsNamed(session.h.records, "oauth2_refresh_token_kept")).toHaveLength(1);
  });
});
