import { confidentialClient, publicNativeClient, startIdp, type TestIdp } from "@vymalo/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { clientCredentialsToken } from "./fixtures/client-credentials.js";
import { testConfig } from "./fixtures/gateway.js";
import { closeAfterAll } from "./fixtures/lifecycle.js";
import { startUpstream, type Upstream } from "./fixtures/upstream.js";

/**
 * RFC 9728 through the built gateway and the real oidc-provider: a client that knows nothing
 * but the gateway's URL gets a 401, follows `resource_metadata` to the protected-resource
 * metadata, finds the authorization server there, gets a token from it and is let in.
 */

const BACKEND = { id: "llm-backend", secret: "backend-secret" };
const PUBLIC_URL = "https://llm.example.test";

let idp: TestIdp;
let upstream: Upstream;
let gw: BuiltGateway;
let prefixed: BuiltGateway;

beforeAll(async () => {
  idp = await startIdp({
    clients: [confidentialClient(BACKEND.id, BACKEND.secret), publicNativeClient("opencode-cli")],
  });
  upstream = await startUpstream();
  const config = (publicUrl: string) =>
    testConfig(
      idp.issuer,
      { baseURL: upstream.baseURL },
      { publicUrl, audiences: [idp.audience], clients: [BACKEND.id], requiredScopes: ["api:read"] },
    );
  [gw, prefixed] = await Promise.all([
    startBuiltGateway(config(PUBLIC_URL)),
    startBuiltGateway(config(`${PUBLIC_URL}/team/`)),
  ]);
});
closeAfterAll(() => ({ gateways: [gw, prefixed], upstream, idp }));

/** The auth-params of a `Bearer` challenge (quoted values only, as the gateway writes them). */
function challengeParams(header: string | null): Record<string, string> {
  expect(header).toMatch(/^Bearer /);
  return Object.fromEntries(
    [...(header ?? "").matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  );
}

/** The gateway URL a public `https://llm.example.test/…` URL reaches through the load balancer. */
const throughBalancer = (gateway: BuiltGateway, publicUrl: string) =>
  `${gateway.url}${new URL(publicUrl).pathname}`;

const clientCredentials = (tokenEndpoint: string, scope: string) =>
  clientCredentialsToken(tokenEndpoint, BACKEND, scope);

describe("protected-resource metadata (RFC 9728)", () => {
  it("a client finds the IdP from a 401 alone, gets a token there and is let in", async () => {
    const refused = await fetch(`${gw.url}/v1/models`);
    expect(refused.status).toBe(401);
    const { resource_metadata: metadataUrl } = challengeParams(
      refused.headers.get("www-authenticate"),
    );
    expect(metadataUrl).toBe(`${PUBLIC_URL}/.well-known/oauth-protected-resource`);

    const answer = await fetch(throughBalancer(gw, metadataUrl as string));
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    const metadata = (await answer.json()) as Record<string, unknown>;
    expect(metadata).toEqual({
      resource: PUBLIC_URL,
      authorization_servers: [idp.issuer],
      bearer_methods_supported: ["header"],
      scopes_supported: ["api:read"],
      resource_name: "llm.example.test",
    });

    const [server] = metadata.authorization_servers as string[];
    const discovery = (await (
      await fetch(`${server}/.well-known/openid-configuration`)
    ).json()) as { issuer: string; token_endpoint: string };
    expect(discovery.issuer).toBe(server);
    const token = await clientCredentials(
      discovery.token_endpoint,
      (metadata.scopes_supported as string[]).join(" "),
    );
    const admitted = await fetch(`${gw.url}/v1/models`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(admitted.status).toBe(200);
  });

  it("every challenge names the metadata: a bad token's 401 and a missing scope's 403", async () => {
    const junk = await fetch(`${gw.url}/v1/models`, {
      headers: { authorization: "Bearer not-a-token" },
    });
    expect(junk.status).toBe(401);
    expect(challengeParams(junk.headers.get("www-authenticate"))).toMatchObject({
      error: "invalid_token",
      resource_metadata: `${PUBLIC_URL}/.well-known/oauth-protected-resource`,
    });
    const token = await clientCredentials(idp.tokenEndpoint, "api:write");
    const forbidden = await fetch(`${gw.url}/v1/models`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(forbidden.status).toBe(403);
    expect(challengeParams(forbidden.headers.get("www-authenticate"))).toMatchObject({
      error: "insufficient_scope",
      scope: "api:read",
      resource_metadata: `${PUBLIC_URL}/.well-known/oauth-protected-resource`,
    });
  });

  it("a public URL with a path has its metadata where RFC 9728 §3.1 puts it", async () => {
    const refused = await fetch(`${prefixed.url}/v1/models`);
    const { resource_metadata: metadataUrl } = challengeParams(
      refused.headers.get("www-authenticate"),
    );
    expect(metadataUrl).toBe(`${PUBLIC_URL}/.well-known/oauth-protected-resource/team`);
    const answer = await fetch(throughBalancer(prefixed, metadataUrl as string));
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { resource: string }).resource).toBe(`${PUBLIC_URL}/team`);
  });

  it("is revalidated with its ETag", async () => {
    const first = await fetch(`${gw.url}/.well-known/oauth-protected-resource`);
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"/);
    const again = await fetch(`${gw.url}/.well-known/oauth-protected-resource`, {
      headers: { "if-none-match": etag as string },
    });
    expect(again.status).toBe(304);
  });
});
