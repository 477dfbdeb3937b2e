import { startFakeLlm } from "@vymalo/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { type BuiltGateway, startBuiltGateway } from "./fixtures/built-gateway.js";
import { AUDIENCE, CLI_CLIENT, testConfig } from "./fixtures/gateway.js";
import { type IssuerStub, startIssuerStub } from "./fixtures/issuer-stub.js";
import { closeAfterAll, forgetUpstreamRequests } from "./fixtures/lifecycle.js";
import type { Upstream } from "./fixtures/upstream.js";

/**
 * Per-group and per-scope model access through the built gateway: a caller sees only its
 * models in /v1/models and /v1/models-info, and a request for another model is refused with
 * 403 naming it, before the upstream sees it.
 */

let idp: IssuerStub;
let upstream: Upstream;
let gw: BuiltGateway;

beforeAll(async () => {
  idp = await startIssuerStub();
  upstream = await startFakeLlm({ models: ["team/coder", "team/small"], answer: "Fine." });
  gw = await startBuiltGateway(
    testConfig(
      idp.issuer,
      { baseURL: upstream.baseURL },
      {
        providerId: "corp",
        access: {
          groups: { "/llm-users": ["team/small"], "/llm-admins": ["*"] },
          scopes: { "llm:coder": ["team/coder"] },
        },
      },
    ),
  );
});
closeAfterAll(() => ({ gateways: [gw], upstream, idp }));
forgetUpstreamRequests(() => upstream);

const token = (claims: Record<string, unknown>) =>
  idp.sign({ iss: idp.issuer, aud: AUDIENCE, azp: CLI_CLIENT, sub: "dana", ...claims });

const get = async (path: string, claims: Record<string, unknown>) =>
  fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${await token(claims)}` } });

const chat = async (claims: Record<string, unknown>, body: Record<string, unknown>) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await token(claims)}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], ...body }),
  });

const ids = async (response: Response) =>
  ((await response.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);

const USER = { groups: ["/llm-users"] };
const ADMIN = { groups: ["/llm-admins"] };

describe("model access by group and scope", () => {
  it("refuses a model the caller's groups do not grant with 403, naming it, upstream untouched", async () => {
    const response = await chat(USER, { model: "team/coder" });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: Record<string, string> };
    expect(body.error).toEqual({
      message: 'the model "team/coder" is not available to you (you may use: team/small)',
      type: "permission_error",
      code: "model_not_allowed",
    });
    // The scope that would grant it is named in the challenge.
    const challenge = response.headers.get("www-authenticate") ?? "";
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="llm:coder"');
    expect(challenge).toContain(
      'resource_metadata="https://llm.example.test/.well-known/oauth-protected-resource"',
    );
    expect(upstream.requests).toHaveLength(0);
    expect(await gw.logged("gateway_model_refused")).toContainEqual(
      expect.objectContaining({
        event: "gateway_model_refused",
        sub: "dana",
        model: "team/coder",
        path: "/v1/chat/completions",
      }),
    );
  });

  it("passes a granted model, by group or by scope", async () => {
    expect((await chat(USER, { model: "team/small" })).status).toBe(200);
    expect((await chat({ scope: "openid llm:coder" }, { model: "team/coder" })).status).toBe(200);
    expect((await chat(ADMIN, { model: "team/coder" })).status).toBe(200);
    expect(upstream.chatRequests().map((r) => (r.body as { model: string }).model)).toEqual([
      "team/small",
      "team/coder",
      "team/coder",
    ]);
  });

  it("a narrowed caller must name the model: a body without one is refused", async () => {
    const response = await chat(USER, {});
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      /name the model in the JSON body's "model" field/,
    );
    expect(upstream.requests).toHaveLength(0);
  });

  it("a caller with no grant at all may use no model", async () => {
    const response = await chat({ groups: ["/visitors"] }, { model: "team/small" });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      'the model "team/small" is not available to you (you may use no model here)',
    );
    expect(response.headers.get("www-authenticate")).toBeNull();
    expect(await ids(await get("/v1/models", { groups: ["/visitors"] }))).toEqual([]);
  });

  it("checks GET /v1/models/<id> the same way", async () => {
    expect((await get("/v1/models/team%2Dcoder", USER)).status).toBe(403);
    expect((await get("/v1/models/team-small", USER)).status).toBe(403);
    const allowed = await get("/v1/models/team-small", ADMIN);
    expect(allowed.status).toBe(404); // "*" passes it on; the upstream has no such model
  });

  it("/v1/models lists only the caller's models, from the config", async () => {
    const user = await get("/v1/models", USER);
    expect(user.status).toBe(200);
    expect(await user.clone().json()).toEqual({
      object: "list",
      data: [{ id: "team/small", object: "model", created: 0, owned_by: "corp" }],
    });
    expect(await ids(await get("/v1/models", ADMIN))).toEqual(["team/coder", "team/small"]);
    expect(await ids(await get("/v1/models", { ...USER, scope: "llm:coder" }))).toEqual([
      "team/coder",
      "team/small",
    ]);
    expect(upstream.requests).toHaveLength(0);
  });

  it("/v1/models-info lists only the caller's models; the same set gets the same ETag", async () => {
    const user = await get("/v1/models-info", USER);
    const admin = await get("/v1/models-info", ADMIN);
    const otherUser = await get("/v1/models-info", { groups: ["/llm-users", "/unrelated"] });
    expect(await ids(user.clone())).toEqual(["team/small"]);
    expect(await ids(admin.clone())).toEqual(["team/coder", "team/small"]);
    expect(user.headers.get("etag")).not.toBe(admin.headers.get("etag"));
    expect(otherUser.headers.get("etag")).toBe(user.headers.get("etag"));
    const revalidated = await fetch(`${gw.url}/v1/models-info`, {
      headers: {
        authorization: `Bearer ${await token(USER)}`,
        "if-none-match": user.headers.get("etag") as string,
      },
    });
    expect(revalidated.status).toBe(304);
  });
});
