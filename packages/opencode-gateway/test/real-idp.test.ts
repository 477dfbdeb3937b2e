import { confidentialClient, publicNativeClient, startIdp, type TestIdp } from "@vymalo/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { clientCredentialsToken } from "./fixtures/client-credentials.js";
import { type RunningGateway, readChunks, startGateway, testConfig } from "./fixtures/gateway.js";
import { closeAfterAll, forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import { startUpstream, type Upstream } from "./fixtures/upstream.js";

/**
 * Against the real oidc-provider of @vymalo/testkit: discovery and JWKS from the IdP itself, an
 * RS256 JWT access token from a client_credentials grant, and RFC 7662 introspection of an
 * opaque access token at the IdP's own introspection endpoint.
 *
 * The kit's IdP issues JWT access tokens for its resource server, so the opaque token is minted
 * through oidc-provider's own model (`ClientCredentials` with an opaque-format resource server):
 * it is stored in the IdP and introspected exactly like one the token endpoint would issue.
 */

const BACKEND = { id: "llm-backend", secret: "backend-secret" };
const GATEWAY_CLIENT = { id: "llm-gateway", secret: "gateway-secret" };

let idp: TestIdp;
let upstream: Upstream;
let gw: RunningGateway;

beforeAll(async () => {
  idp = await startIdp({
    clients: [
      confidentialClient(BACKEND.id, BACKEND.secret),
      confidentialClient(GATEWAY_CLIENT.id, GATEWAY_CLIENT.secret),
      publicNativeClient("opencode-cli"),
    ],
  });
  upstream = await startUpstream();
  gw = await startGateway(
    testConfig(
      idp.issuer,
      { baseURL: upstream.baseURL },
      {
        audiences: [idp.audience],
        clients: [BACKEND.id],
        requiredScopes: ["api:read"],
        introspection: {
          endpoint: `${idp.issuer}${new URL(idp.provider.urlFor("introspection")).pathname}`,
          clientId: GATEWAY_CLIENT.id,
          clientSecret: GATEWAY_CLIENT.secret,
          // Every request asks the IdP, so a revocation shows on the next one (the default
          // remembers active answers for 60 s: outbound-calls.test.ts).
          cacheSec: 0,
        },
      },
    ),
  );
});
closeAfterAll(() => ({ gateways: [gw], upstream, idp }));
forgetUpstreamRequests(() => upstream);

const clientCredentials = (scope: string) =>
  clientCredentialsToken(idp.tokenEndpoint, BACKEND, scope);

/** An opaque access token stored in the IdP, as its token endpoint would store one. */
async function opaqueToken(scope: string, audience = idp.audience): Promise<string> {
  const client = await idp.provider.Client.find(BACKEND.id);
  if (!client) throw new Error(`the IdP does not know ${BACKEND.id}`);
  const token = new idp.provider.ClientCredentials({
    client,
    scope,
    resourceServer: {
      audience,
      scope,
      accessTokenFormat: "opaque",
      scopes: new Set(scope.split(" ")),
      identifier: () => audience,
    },
  });
  return token.save();
}

const chat = (token: string) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "team/coder", stream: true, messages: [] }),
  });

describe("a real IdP's tokens", () => {
  it("a JWT access token from client_credentials passes and streams", async () => {
    const token = await clientCredentials("api:read");
    expect(token.split(".")).toHaveLength(3);
    const claims = await idp.verifyAccessToken(token);
    expect(claims.client_id).toBe(BACKEND.id);
    const response = await chat(token);
    expect(response.status).toBe(200);
    expect((await readChunks(response)).join("")).toBe(upstream.requests[0]?.response);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("its JWT access token says typ at+jwt, so requireAtJwt: true accepts it", async () => {
    const token = await clientCredentials("api:read");
    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString());
    expect(header.typ).toBe("at+jwt");
    const strict = await startGateway(
      testConfig(
        idp.issuer,
        { baseURL: upstream.baseURL },
        {
          audiences: [idp.audience],
          clients: [BACKEND.id],
          requireAtJwt: true,
        },
      ),
    );
    try {
      const response = await fetch(`${strict.url}/v1/models`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it("the same IdP's token without the required scope is refused with 403", async () => {
    const response = await chat(await clientCredentials("api:write"));
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(upstream.requests).toHaveLength(0);
  });

  it("an opaque token is introspected at the IdP and passes", async () => {
    const token = await opaqueToken("api:read");
    expect(token.split(".")).toHaveLength(1);
    const response = await chat(token);
    expect(response.status).toBe(200);
    expect((await readChunks(response)).join("")).toBe(upstream.requests[0]?.response);
    expect(upstream.requests).toHaveLength(1);
  });

  it("an opaque token revoked at the IdP is refused on the next request (cacheSec: 0)", async () => {
    const token = await opaqueToken("api:read");
    expect((await chat(token)).status).toBe(200);
    const stored = await idp.provider.ClientCredentials.find(token);
    await stored?.destroy();
    const response = await chat(token);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { reason: string } }).error.reason).toBe(
      "inactive",
    );
    expect(upstream.requests).toHaveLength(1);
  });

  it("an opaque token for another audience is refused after introspection", async () => {
    const response = await chat(await opaqueToken("api:read", "urn:other:api"));
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { reason: string } }).error.reason).toBe(
      "wrong_audience",
    );
    expect(upstream.requests).toHaveLength(0);
  });
});
