// The gateway's own outbound calls (discovery, JWKS) behind a proxy: Node's fetch ignores
// HTTP_PROXY, the core's transport does not. A real tinyproxy's log shows the gateway's requests
// to the real IdP went through it, and that a NO_PROXY host did not.
import {
  confidentialClient,
  type ForwardProxy,
  startForwardProxy,
  startIdp,
  type TestIdp,
} from "@vymalo/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startGateway, testConfig } from "./fixtures/gateway.js";
import { startUpstream, type Upstream } from "./fixtures/upstream.js";

let idp: TestIdp;
let upstream: Upstream;
let proxy: ForwardProxy;

beforeAll(async () => {
  idp = await startIdp({ clients: [confidentialClient("backend", "backend-secret")] });
  upstream = await startUpstream();
  // undici tunnels plain http through the proxy with CONNECT too. The /v1 upstream goes through
  // it as well (upstream-proxy.test.ts).
  proxy = await startForwardProxy({
    connectPorts: [idp.port, Number(new URL(upstream.baseURL).port)],
  });
});
afterEach(() => vi.unstubAllEnvs());
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
  await idp?.close();
});

async function token(): Promise<string> {
  const response = await fetch(idp.tokenEndpoint, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from("backend:backend-secret").toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ grant_type: "client_credentials", scope: "api:read" }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

async function modelsThroughGateway(): Promise<number> {
  const gw = await startGateway(
    testConfig(
      idp.issuer,
      { baseURL: upstream.baseURL },
      { audiences: [idp.audience], clients: ["backend"] },
    ),
  );
  try {
    const response = await fetch(`${gw.url}/v1/models`, {
      headers: { authorization: `Bearer ${await token()}` },
    });
    return response.status;
  } finally {
    await gw.close();
  }
}

describe("the gateway's outbound calls and the proxy variables", () => {
  it("fetches the issuer's keys through HTTP_PROXY, and directly for a NO_PROXY host", async () => {
    vi.stubEnv("HTTP_PROXY", proxy.url);
    vi.stubEnv("NO_PROXY", "");
    vi.stubEnv("no_proxy", "");
    vi.stubEnv("http_proxy", "");
    expect(await modelsThroughGateway()).toBe(200);
    const tunnelled = (await proxy.requests()).filter((r) => r === `CONNECT 127.0.0.1:${idp.port}`);
    expect(tunnelled.length).toBeGreaterThan(0);

    vi.stubEnv("NO_PROXY", "127.0.0.1");
    const discoveries = idp.discoveryRequests.length;
    expect(await modelsThroughGateway()).toBe(200);
    // It did go to the IdP again, not through the proxy.
    expect(idp.discoveryRequests.length).toBeGreaterThan(discoveries);
    const after = (await proxy.requests()).filter((r) => r === `CONNECT 127.0.0.1:${idp.port}`);
    expect(after).toHaveLength(tunnelled.length);
  });
});
