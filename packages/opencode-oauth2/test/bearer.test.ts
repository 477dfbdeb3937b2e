import { confidentialClient, startIdp, type TestIdp } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { bearerFetch } from "../src/bearer-fetch.js";
import { events, providerFor, startResourceServer, tempEngine } from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(options: { ttl?: number } = {}) {
  const idp: TestIdp = await startIdp({
    clients: [confidentialClient("svc", "s")],
    accessTokenTtl: options.ttl ?? 300,
  });
  const server = await startResourceServer();
  const env = await tempEngine();
  cleanups.push(
    () => idp.close(),
    () => server.close(),
    env.cleanup,
  );
  const provider = providerFor("corp", {
    issuer: idp.issuer,
    clientId: "svc",
    clientSecret: "s",
    authFlow: "client_credentials",
  });
  const doFetch = bearerFetch({ engine: env.engine, provider, logger: env.logger });
  return { idp, server, env, provider, doFetch };
}

const bearerOf = (headers: { authorization?: string }) =>
  headers.authorization?.replace(/^Bearer /, "") ?? "";

describe("bearerFetch", () => {
  it("sends a valid token on every request, keeping the caller's other headers", async () => {
    const { idp, server, doFetch } = await setup();
    const response = await doFetch(server.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer oauth2-managed",
        "x-trace": "1",
      },
      body: JSON.stringify({ model: "m" }),
    });
    expect(response.status).toBe(200);
    const headers = server.seen[0] ?? {};
    expect(headers["x-trace"]).toBe("1");
    expect((await idp.verifyAccessToken(bearerOf(headers))).client_id).toBe("svc");
  });

  it("on a 401 drops the token, refreshes once and retries the request once", async () => {
    const { idp, server, env, doFetch } = await setup();
    await doFetch(server.url, { method: "POST", body: "{}" });
    const grantsBefore = idp.countGrants("client_credentials");
    server.failNext(1);
    const response = await doFetch(server.url, { method: "POST", body: '{"n":2}' });
    expect(response.status).toBe(200);
    expect(server.seen).toHaveLength(3);
    expect(server.bodies.slice(1)).toEqual(['{"n":2}', '{"n":2}']);
    // The retried request carried a different, freshly minted token.
    expect(bearerOf(server.seen[2] ?? {})).not.toBe(bearerOf(server.seen[1] ?? {}));
    expect(idp.countGrants("client_credentials")).toBe(grantsBefore + 1);
    expect(events(env.records, "oauth2_request_unauthorized_retrying")).toHaveLength(1);
  });

  it("retries only once: a second 401 is what the caller sees", async () => {
    const { server, doFetch } = await setup();
    server.failNext(2);
    const response = await doFetch(server.url, { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
    expect(server.seen).toHaveLength(2);
  });

  it("fails with the login hint when no token can be had without a prompt", async () => {
    const idp = await startIdp({ clients: [confidentialClient("svc", "s")] });
    const server = await startResourceServer();
    const env = await tempEngine();
    cleanups.push(
      () => idp.close(),
      () => server.close(),
      env.cleanup,
    );
    const provider = providerFor("corp", { issuer: idp.issuer, clientId: "cli" });
    const doFetch = bearerFetch({ engine: env.engine, provider, logger: env.logger });
    await expect(doFetch(server.url, {})).rejects.toThrow(/opencode auth login/);
    expect(server.seen).toHaveLength(0);
    expect(events(env.records, "oauth2_request_token_unavailable")[0]).toMatchObject({
      reason: "no_token",
    });
  });
});
