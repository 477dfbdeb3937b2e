import { type JWTPayload, SignJWT, UnsecuredJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AUDIENCE,
  CLI_CLIENT,
  type RunningGateway,
  readChunks,
  startGateway,
  testConfig,
  WEB_CLIENT,
} from "./fixtures/gateway.js";
import { type IssuerStub, makeKey, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll, forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import { startUpstream, type Upstream } from "./fixtures/upstream.js";

/**
 * Every bad token is refused with 401/403 and an RFC 6750 header, and never reaches the
 * upstream; tokens issued to each allowed client (the web app and the CLI) pass and stream.
 */

let idp: IssuerStub;
let upstream: Upstream;
let gw: RunningGateway;

const now = () => Math.floor(Date.now() / 1000);
const good = (): JWTPayload => ({
  iss: idp.issuer,
  aud: AUDIENCE,
  azp: WEB_CLIENT,
  sub: "alice",
  scope: "openid llm:use",
  groups: ["staff", "llm-users"],
});

beforeAll(async () => {
  idp = await startIssuerStub();
  upstream = await startUpstream();
  gw = await startGateway(
    testConfig(
      idp.issuer,
      { baseURL: upstream.baseURL, apiKey: "upstream-secret" },
      { requiredScopes: ["llm:use"], requiredGroups: ["llm-users"] },
    ),
  );
});
closeAfterAll(() => ({ gateways: [gw], upstream, idp }));
forgetUpstreamRequests(() => upstream);

const chat = (authorization: string | undefined, stream = true) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(authorization === undefined ? {} : { authorization }),
    },
    body: JSON.stringify({
      model: "team/coder",
      stream,
      messages: [{ role: "user", content: "hi" }],
    }),
  });

const bearer = async (claims: JWTPayload, options?: Parameters<IssuerStub["sign"]>[1]) =>
  `Bearer ${await idp.sign(claims, options)}`;

type Case = {
  name: string;
  header: () => Promise<string | undefined>;
  status: 401 | 403;
  error?: "invalid_token" | "insufficient_scope";
  reason: string;
};

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

const cases: Case[] = [
  {
    name: "wrong aud",
    header: () => bearer({ ...good(), aud: "https://other-api.example.test" }),
    status: 401,
    error: "invalid_token",
    reason: "wrong_audience",
  },
  {
    name: "wrong iss",
    header: () => bearer({ ...good(), iss: "https://evil.example.test" }),
    status: 401,
    error: "invalid_token",
    reason: "wrong_issuer",
  },
  {
    name: "expired (beyond the 30 s tolerance)",
    header: () => bearer({ ...good(), exp: now() - 120 }),
    status: 401,
    error: "invalid_token",
    reason: "expired",
  },
  {
    name: "not yet valid",
    header: () => bearer({ ...good(), nbf: now() + 600 }),
    status: 401,
    error: "invalid_token",
    reason: "not_yet_valid",
  },
  {
    name: "no exp",
    header: () => bearer(good(), { ttlSec: null }),
    status: 401,
    error: "invalid_token",
    reason: "no_expiry",
  },
  {
    name: "alg: none",
    header: async () => `Bearer ${new UnsecuredJWT({ ...good(), exp: now() + 300 }).encode()}`,
    status: 401,
    error: "invalid_token",
    reason: "alg_not_allowed",
  },
  {
    name: "HS256 signed with the public key (key confusion)",
    header: async () => {
      const secret = new TextEncoder().encode(JSON.stringify(idp.active.publicJwk));
      const token = await new SignJWT({ ...good(), exp: now() + 300 })
        .setProtectedHeader({ alg: "HS256", kid: idp.active.kid })
        .sign(secret);
      return `Bearer ${token}`;
    },
    status: 401,
    error: "invalid_token",
    reason: "alg_not_allowed",
  },
  {
    name: "unknown kid",
    header: async () => bearer(good(), { key: await makeKey("not-published") }),
    status: 401,
    error: "invalid_token",
    reason: "unknown_key",
  },
  {
    name: "a published kid, signed by another key",
    header: async () => bearer(good(), { key: { ...(await makeKey(idp.active.kid)) } }),
    status: 401,
    error: "invalid_token",
    reason: "bad_signature",
  },
  {
    name: "tampered payload",
    header: async () => {
      const [head, , sig] = (await idp.sign({ ...good(), groups: [] })).split(".");
      return `Bearer ${head}.${b64url({ ...good(), exp: now() + 300 })}.${sig}`;
    },
    status: 401,
    error: "invalid_token",
    reason: "bad_signature",
  },
  {
    name: "a client not in the allow-list",
    header: () => bearer({ ...good(), azp: "someone-elses-app" }),
    status: 401,
    error: "invalid_token",
    reason: "client_not_allowed",
  },
  {
    name: "no azp nor client_id",
    header: () => bearer({ ...good(), azp: undefined }),
    status: 401,
    error: "invalid_token",
    reason: "no_client",
  },
  { name: "missing header", header: async () => undefined, status: 401, reason: "missing" },
  {
    name: '"Basic …"',
    header: async () => "Basic YWxpY2U6cHc=",
    status: 401,
    reason: "not_bearer",
  },
  {
    name: '"Bearer" alone',
    header: async () => "Bearer",
    status: 401,
    error: "invalid_token",
    reason: "malformed_header",
  },
  {
    name: "garbage after Bearer",
    header: async () => "Bearer not a token!",
    status: 401,
    error: "invalid_token",
    reason: "malformed_header",
  },
  {
    name: "JWT-shaped garbage",
    header: async () => "Bearer aaa.bbb.ccc",
    status: 401,
    error: "invalid_token",
    reason: "malformed",
  },
  {
    name: "an opaque token without introspection configured",
    header: async () => "Bearer 2YotnFZFEjr1zCsicMWpAA",
    status: 401,
    error: "invalid_token",
    reason: "not_a_jwt",
  },
  {
    name: "group not allowed",
    header: () => bearer({ ...good(), groups: ["staff"] }),
    status: 403,
    error: "insufficient_scope",
    reason: "group_not_allowed",
  },
  {
    name: "missing required scope",
    header: () => bearer({ ...good(), scope: "openid profile" }),
    status: 403,
    error: "insufficient_scope",
    reason: "missing_scope",
  },
];

describe("refused tokens never reach the upstream", () => {
  it.each(cases)("$name → $status $reason", async (c) => {
    const response = await chat(await c.header());
    const body = (await response.json()) as { error: { code: string; reason: string } };
    expect(response.status).toBe(c.status);
    expect(body.error.reason).toBe(c.reason);
    const challenge = response.headers.get("www-authenticate") ?? "";
    expect(challenge).toMatch(/^Bearer realm="https:\/\/llm\.example\.test"/);
    if (c.error) {
      expect(challenge).toContain(`error="${c.error}"`);
      expect(challenge).toMatch(/error_description="[^"]+"/);
      expect(body.error.code).toBe(c.error);
    } else {
      // No error code without credentials (RFC 6750 §3.1); only where the metadata is (RFC 9728).
      expect(challenge).toBe(
        'Bearer realm="https://llm.example.test", resource_metadata="https://llm.example.test/.well-known/oauth-protected-resource"',
      );
    }
    if (c.reason === "missing_scope") expect(challenge).toContain('scope="llm:use"');
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("valid tokens pass and stream", () => {
  it.each([
    ["the web client (azp)", { azp: WEB_CLIENT }],
    ["the CLI client (azp)", { azp: CLI_CLIENT }],
    [
      "the CLI client (client_id, scp array)",
      { azp: undefined, client_id: CLI_CLIENT, scope: undefined, scp: ["llm:use"] },
    ],
    ["a token expired 10 s ago (within tolerance)", { exp: now() - 10 }],
  ])("%s", async (_name, overrides) => {
    const response = await chat(await bearer({ ...good(), ...overrides }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const chunks = await readChunks(response);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.join("")).toBe(upstream.requests[0]?.response);
    expect(upstream.requests).toHaveLength(1);
    // The user's token stays at the gateway; the upstream sees its own key.
    expect(upstream.requests[0]?.headers.authorization).toBe("Bearer upstream-secret");
  });

  it("passes chunks on before the upstream has finished (no buffering)", async () => {
    const release = upstream.holdAfterFirstWord();
    const response = await chat(await bearer(good()));
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    // The first word arrives while the upstream holds the rest of its stream.
    let head = "";
    while (!head.includes("Streamed")) {
      const r = await reader.read();
      if (r.done) break;
      head += decoder.decode(r.value, { stream: true });
    }
    expect(head).toContain("Streamed");
    expect(upstream.streamFinished).toBe(false);
    release();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += decoder.decode(r.value, { stream: true });
    }
    expect(rest).toContain("data: [DONE]");
    expect(upstream.streamFinished).toBe(true);
  });
});
