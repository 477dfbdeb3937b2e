// Logout against an IdP that refuses revocation by a public client (Glewlwyd: client
// credentials or a bearer access token with a configured scope only). The user must not be
// left believing the session ended: where the IdP accepts the access token, logout revokes
// with it; otherwise it says the refresh token stays active until it expires.
import { afterEach, describe, expect, it } from "vitest";
import type { LogoutResult } from "../src/engine.js";
import { refresh } from "../src/flows/refresh.js";
import { clientConfiguration } from "../src/oidc/configuration.js";
import { eventsNamed, type Harness, loggedIn } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => h?.close());

/** Whether the IdP still honours the refresh token (a real refresh with it). */
async function stillActive(session: Awaited<ReturnType<typeof loggedIn>>): Promise<boolean> {
  const { provider, first } = session;
  const config = await clientConfiguration(provider, provider.loginClient);
  try {
    await refresh(provider, config, first.refreshToken as string);
    return true;
  } catch (err) {
    if ((err as { idp?: { error?: string } }).idp?.error === "invalid_grant") return false;
    throw err;
  }
}

/** Glewlwyd with a scope its revocation endpoint accepts, carried by the user's tokens. */
const ACCEPTS_ACCESS_TOKEN = {
  scopes: ["api:read"],
  quirks: { publicClientRevocationRefused: true, revocationBearerScope: "api:read" },
  provider: { scopes: "openid offline_access api:read" },
};

function failed(result: LogoutResult) {
  if (result.revocation?.status !== "failed") throw new Error("expected a failed revocation");
  return result.revocation;
}

describe("logout with an IdP that refuses revocation by a public client", () => {
  it("says the refresh token stays active until it expires, and it does", async () => {
    const session = await loggedIn({ quirks: { publicClientRevocationRefused: true } });
    h = session.h;
    const result = await session.engine.logout(session.provider);
    expect(result).toMatchObject({ removed: true, revoked: false });
    const { refused, error } = failed(result);
    expect(refused).toBe(true);
    expect(error.message).toBe(
      'provider "corp": the IdP refused, also with the access token, to revoke the refresh token of the public client "cli": the refresh token stays active at the IdP until it expires. The revocation endpoint answered HTTP 401, empty body. Fix: to end the session now, sign out at the IdP or have its admin end it; to let logout revoke, ask the admin to allow revocation by this client (some IdPs, Glewlwyd among them, accept only client credentials or an access token carrying a scope they name)',
    );
    expect(eventsNamed(session.h.records, "oauth2_logout")[0]).toMatchObject({
      removed: true,
      revoked: false,
      refreshTokenStillActive: true,
    });
    expect(eventsNamed(session.h.records, "oauth2_revocation_failed")[0]).toMatchObject({
      endpoint: "revocation",
      status: 401,
      body_excerpt: "",
      refused: true,
    });
    expect(await session.engine.cached(session.provider)).toEqual({ kind: "absent" });
    expect(await stillActive(session)).toBe(true); // what the message says is true
  });

  it("revokes with the access token where the IdP accepts it, and the session ends", async () => {
    const session = await loggedIn(ACCEPTS_ACCESS_TOKEN);
    h = session.h;
    const result = await session.engine.logout(session.provider);
    expect(result).toEqual({
      removed: true,
      revoked: true,
      revocation: { status: "revoked", via: "access_token" },
    });
    expect(eventsNamed(session.h.records, "oauth2_logout")[0]).toMatchObject({
      revoked: true,
      revokedWith: "access_token",
      refreshTokenStillActive: false,
    });
    expect(await stillActive(session)).toBe(false);
  });

  it("does not send an expired access token, and says the refresh token stays active", async () => {
    const session = await loggedIn(ACCEPTS_ACCESS_TOKEN);
    h = session.h;
    session.advance(400_000);
    const { error } = failed(await session.engine.logout(session.provider));
    expect(error.detail).toBe(
      'the IdP refused to revoke the refresh token of the public client "cli": the refresh token stays active at the IdP until it expires.',
    );
    expect(await stillActive(session)).toBe(true);
  });

  it("a compliant IdP revokes with the client, as before", async () => {
    const session = await loggedIn();
    h = session.h;
    expect(await session.engine.logout(session.provider)).toEqual({
      removed: true,
      revoked: true,
      revocation: { status: "revoked", via: "client" },
    });
    expect(await stillActive(session)).toBe(false);
  });
});
