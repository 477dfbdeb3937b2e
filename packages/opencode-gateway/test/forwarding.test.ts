import { beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { cliToken, testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll, forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import { rawRequest } from "./fixtures/raw-http.js";
import { startUpstream, type Upstream } from "./fixtures/upstream.js";

/**
 * What the upstream learns about the client comes from the gateway, not from the client:
 * client-sent forwarding and identity headers are dropped and the gateway's own are set; a
 * proxy in front is believed only when `listen.trustProxy` names it. Paths with encoded dots
 * or slashes are refused before they can be re-decoded into a traversal further on. Asserted
 * at the real upstream, through the built gateway.
 */

let idp: IssuerStub;
let upstream: Upstream;
let direct: BuiltGateway;
let behindLb: BuiltGateway;
let byHops: BuiltGateway;
let otherLb: BuiltGateway;
let token: string;

const listen = (trustProxy?: number | string[]) => ({
  listen: { host: "127.0.0.1", port: 0, ...(trustProxy === undefined ? {} : { trustProxy }) },
});

beforeAll(async () => {
  idp = await startIssuerStub();
  upstream = await startUpstream();
  const config = (extra = {}) => testConfig(idp.issuer, { baseURL: upstream.baseURL }, extra);
  // The test client connects from 127.0.0.1: trusting that address makes it the load balancer.
  [direct, behindLb, byHops, otherLb] = await Promise.all([
    startBuiltGateway(config()),
    startBuiltGateway(config(listen(["127.0.0.1", "::1"]))),
    startBuiltGateway(config(listen(1))),
    startBuiltGateway(config(listen(["10.0.0.0/8"]))),
  ]);
  token = await cliToken(idp, "frank");
});
closeAfterAll(() => ({ gateways: [direct, behindLb, byHops, otherLb], upstream, idp }));
forgetUpstreamRequests(() => upstream);

const SPOOFED = {
  "x-forwarded-for": "6.6.6.6",
  "x-forwarded-host": "evil.example",
  "x-forwarded-proto": "https",
  "x-forwarded-port": "443",
  "x-forwarded-user": "admin",
  "x-forwarded-email": "admin@example.test",
  "x-real-ip": "6.6.6.6",
  forwarded: "for=6.6.6.6;proto=https;host=evil.example",
  "true-client-ip": "6.6.6.6",
  "x-client-ip": "6.6.6.6",
  "cf-connecting-ip": "6.6.6.6",
  "x-original-url": "/admin",
  "x-rewrite-url": "/admin",
  "x-auth-request-user": "admin",
  "x-remote-user": "admin",
  "remote-user": "admin",
};

async function forwarded(gw: BuiltGateway, headers: Record<string, string>) {
  const answer = await rawRequest(gw.url, {
    path: "/v1/models",
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  expect(answer.status).toBe(200);
  expect(upstream.requests).toHaveLength(1);
  return upstream.requests[0]?.headers ?? {};
}

describe("forwarding headers", () => {
  it("drops every client-sent forwarding or identity header and sets its own", async () => {
    const seen = await forwarded(direct, SPOOFED);
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-host"]).toBe(`127.0.0.1:${direct.port}`);
    for (const name of Object.keys(SPOOFED).filter(
      (n) => !/^x-forwarded-(for|proto|host)$/.test(n),
    )) {
      expect(seen[name], name).toBeUndefined();
    }
  });

  it("behind a trusted proxy, takes the client address, scheme and host from that proxy", async () => {
    const seen = await forwarded(behindLb, {
      "x-forwarded-for": "203.0.113.7",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "llm.example.test",
      "x-forwarded-user": "admin",
      "x-real-ip": "6.6.6.6",
    });
    expect(seen["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("https");
    expect(seen["x-forwarded-host"]).toBe("llm.example.test");
    // Identity never comes from headers, whoever sends them: the token is the identity.
    expect(seen["x-forwarded-user"]).toBeUndefined();
    expect(seen["x-real-ip"]).toBeUndefined();
  });

  it("behind a trusted proxy, drops what the client put in front of the proxy's entry", async () => {
    const seen = await forwarded(behindLb, { "x-forwarded-for": "6.6.6.6, 203.0.113.7" });
    expect(seen["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
  });

  it("trusts a number of hops the same way", async () => {
    const seen = await forwarded(byHops, {
      "x-forwarded-for": "6.6.6.6, 203.0.113.7",
      "x-forwarded-proto": "https",
    });
    expect(seen["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("https");
  });

  it("ignores forwarding headers from a peer that is not a trusted proxy", async () => {
    const seen = await forwarded(otherLb, {
      "x-forwarded-for": "203.0.113.7",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "evil.example",
    });
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-host"]).toBe(`127.0.0.1:${otherLb.port}`);
  });
});

describe("encoded dots and slashes in the path", () => {
  it.each([
    "/v1/..%2fadmin",
    "/v1/..%2Fadmin",
    "/v1/%2e%2e/admin",
    "/v1/%2E%2E%2Fadmin",
    "/v1/models%2f..%2f..%2fadmin",
    "/v1/..%5cadmin",
    "/v1/..%5Cadmin",
    "/v1/%252e%252e%252fadmin",
  ])("%s is refused with 400 and never reaches the upstream", async (path) => {
    const answer = await rawRequest(direct.url, {
      path,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "invalid_path" } });
    expect(upstream.requests).toHaveLength(0);
  });

  it("an ordinary path with encoded characters still passes", async () => {
    const answer = await rawRequest(direct.url, {
      path: "/v1/models/team%3Acoder?q=a%2Fb",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status).toBe(200);
    expect(upstream.requests[0]?.path).toBe("/v1/models/team%3Acoder");
    expect(upstream.requests[0]?.search).toBe("?q=a%2Fb");
  });
});
