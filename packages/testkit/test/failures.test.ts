import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  confidentialClient,
  publicNativeClient,
  startIdp,
  TestBrowser,
  type TestIdp,
} from "../src/index.js";
import {
  basicConfig,
  CONFIDENTIAL_ID,
  PUBLIC_ID,
  pkceAuthorizationUrl,
  publicConfig,
  SECRET,
} from "./helpers.js";

const clientCredentials = (idp: TestIdp) =>
  fetch(idp.tokenEndpoint, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${CONFIDENTIAL_ID}:${SECRET}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "client_credentials" }),
  });

describe("failure modes", () => {
  let idp: TestIdp;
  let config: client.Configuration;

  beforeAll(async () => {
    idp = await startIdp({
      clients: [publicNativeClient(PUBLIC_ID), confidentialClient(CONFIDENTIAL_ID, SECRET)],
    });
    config = await basicConfig(idp);
  });
  afterAll(() => idp.close());

  it("answers the token endpoint with an HTML page", async () => {
    idp.setFailure("html");
    const response = await clientCredentials(idp);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await response.text()).toContain("<form");
    await expect(client.clientCredentialsGrant(config)).rejects.toThrow();
    idp.setFailure(null);
    await expect(client.clientCredentialsGrant(config)).resolves.toHaveProperty("access_token");
  });

  it("answers invalid JSON", async () => {
    idp.setFailure("invalid-json");
    const response = await clientCredentials(idp);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    await expect(response.json()).rejects.toThrow(SyntaxError);
    await expect(client.clientCredentialsGrant(config)).rejects.toThrow();
    idp.setFailure(null);
  });

  it("answers 500", async () => {
    idp.setFailure("500");
    const response = await clientCredentials(idp);
    expect(response.status).toBe(500);
    await expect(client.clientCredentialsGrant(config)).rejects.toThrow();
    idp.setFailure(null);
  });

  it("hangs until the client gives up", async () => {
    idp.setFailure("hang");
    const started = Date.now();
    await expect(
      fetch(idp.tokenEndpoint, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "client_credentials" }),
        signal: AbortSignal.timeout(150),
      }),
    ).rejects.toThrow(/timeout|abort/i);
    expect(Date.now() - started).toBeLessThan(1000);
    idp.setFailure(null);
    await expect(client.clientCredentialsGrant(config)).resolves.toHaveProperty("access_token");
  });

  it("breaks discovery only when asked to", async () => {
    idp.setFailure("500");
    await expect(basicConfig(idp)).resolves.toBeDefined();
    idp.setFailure("html", { discovery: true });
    await expect(basicConfig(idp)).rejects.toThrow();
    idp.setFailure(null);
    await expect(basicConfig(idp)).resolves.toBeDefined();
  });

  it("counts the failed token requests too", () => {
    // 3 (html) + 2 (invalid-json) + 2 (500) + 2 (hang), answered or not.
    expect(idp.countGrants("client_credentials")).toBe(9);
  });

  it("delays token responses", async () => {
    idp.setTokenDelay(200);
    const started = Date.now();
    await client.clientCredentialsGrant(config);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    idp.setTokenDelay(0);
  });

  it("answers the transient refusals real IdPs and proxies send", async () => {
    const answer = async () => {
      const response = await clientCredentials(idp);
      return {
        status: response.status,
        type: response.headers.get("content-type"),
        challenge: response.headers.get("www-authenticate"),
        text: await response.text(),
      };
    };
    idp.setFailure("temporarily_unavailable");
    expect(await answer()).toMatchObject({
      status: 503,
      type: expect.stringMatching(/^application\/json/),
      text: expect.stringContaining('"error":"temporarily_unavailable"'),
    });
    idp.setFailure("invalid_client");
    expect(await answer()).toMatchObject({
      status: 401,
      text: expect.stringContaining('"error":"invalid_client"'),
    });
    idp.setFailure("proxy-401");
    expect(await answer()).toMatchObject({
      status: 401,
      type: expect.stringMatching(/^text\/html/),
      challenge: 'Basic realm="corporate proxy"',
    });
    idp.setFailure("empty-400");
    expect(await answer()).toEqual({ status: 400, type: null, challenge: null, text: "" });
    idp.setFailure(null);
    await expect(client.clientCredentialsGrant(config)).resolves.toHaveProperty("access_token");
  });
});

describe("stop / start / close", () => {
  it("goes down and comes back on the same port with its state", async () => {
    const idp = await startIdp({ clients: [publicNativeClient(PUBLIC_ID)] });
    const config = await publicConfig(idp);
    const { url, verifier } = await pkceAuthorizationUrl(config);
    const { callbackUrl } = await new TestBrowser().authorize(url);
    const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
      pkceCodeVerifier: verifier,
    });

    await idp.stop();
    await expect(client.refreshTokenGrant(config, tokens.refresh_token ?? "")).rejects.toThrow();
    await idp.start();
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token ?? "");
    expect(refreshed.access_token).toEqual(expect.any(String));
    await idp.close();
    await expect(idp.start()).rejects.toThrow(/closed/);
  });

  it("closes promptly with a hanging request in flight", async () => {
    const idp = await startIdp({ tokenDelayMs: 0 });
    idp.setFailure("hang");
    const pending = fetch(idp.tokenEndpoint, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await idp.close();
    expect(Date.now() - started).toBeLessThan(500);
    expect(await pending).toBeInstanceOf(Error);
  });
});
