// CI without stored secrets: the jwt_bearer grant and token exchange with the token a CI
// platform hands the job — a GitHub Actions OIDC token (from a stand-in of the runner's endpoint,
// real HTTP on loopback), a Kubernetes projected service-account token file that rotates, a
// file, an env variable — against the real oidc-provider, which trusts the token's issuer.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  confidentialClient,
  createWorkloadIssuer,
  federatedClient,
  type GitHubOidcStandIn,
  JWT_BEARER_GRANT,
  publicNativeClient,
  startForwardProxy,
  startGitHubOidcStandIn,
  TOKEN_EXCHANGE_GRANT,
  tokenHash,
} from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { eventsNamed, type Harness, harness, oauth2ErrorOf } from "./helpers.js";

let h: Harness;
let github: GitHubOidcStandIn | undefined;
afterEach(async () => {
  await github?.close();
  github = undefined;
  await h?.close();
});

const IDP_AUDIENCE = "https://idp.example.test/workload";
const CLUSTER = "https://kubernetes.default.svc";

/** A cluster's token issuer the IdP trusts, and a pod's token file it writes. */
async function clusterHarness(
  clients = [publicNativeClient("ci", { grant_types: [JWT_BEARER_GRANT] })],
) {
  const cluster = await createWorkloadIssuer(CLUSTER);
  h = await harness({
    clients,
    accessTokenTtl: 60,
    trustedIssuers: [{ issuer: cluster.issuer, jwks: cluster.jwks, audience: IDP_AUDIENCE }],
  });
  const file = join(h.cacheDir, "token");
  const podToken = () =>
    cluster.sign({ sub: "system:serviceaccount:ci:runner", aud: IDP_AUDIENCE }, 3600);
  return { cluster, file, podToken };
}

/** What a jwt_bearer renewal of the public client "ci" fails with. */
const bearerFailure = (subjectToken: Record<string, unknown>) =>
  oauth2ErrorOf(
    h
      .engine()
      .ensureAccessToken(h.provider({ clientId: "ci", authFlow: "jwt_bearer", subjectToken })),
  );

describe("jwt_bearer with a Kubernetes service-account token", () => {
  it("re-reads the rotated token file at the next renewal: the IdP saw the new assertion", async () => {
    const { file, podToken } = await clusterHarness();
    const first = await podToken();
    await writeFile(file, first);
    let offset = 0;
    const engine = h.engine({ now: () => Date.now() + offset });
    const provider = h.provider({
      clientId: "ci",
      authFlow: "jwt_bearer",
      subjectToken: { source: "kubernetes", file },
      tokenExpirySkewMs: 0,
      scopes: "api:read",
    });
    const one = await engine.ensureAccessToken(provider);
    expect(one).toMatchObject({ status: "ok", source: "headless" });
    if (one.status === "ok") await h.idp.verifyAccessToken(one.accessToken);

    const second = await podToken();
    await writeFile(file, `${second}\n`); // the kubelet rewrites the file
    offset = 120_000; // past the 60 s access token
    const two = await engine.ensureAccessToken(provider);
    expect(two).toMatchObject({ status: "ok", source: "headless" });

    const sent = h.idp.tokenRequests.filter((r) => r.grantType === JWT_BEARER_GRANT);
    expect(sent.map((r) => r.assertionHash)).toEqual([tokenHash(first), tokenHash(second)]);
    expect(sent.every((r) => r.clientId === "ci")).toBe(true);
    const reads = eventsNamed(h.records, "oauth2_subject_token_read");
    expect(reads.map((r) => r.source)).toEqual(["kubernetes", "kubernetes"]);
    expect(reads[0]?.fingerprint).not.toBe(reads[1]?.fingerprint);
    expect(JSON.stringify(h.records)).not.toContain(second);
  });

  it("says the token expired, before the IdP is asked", async () => {
    const { cluster, file } = await clusterHarness();
    await writeFile(
      file,
      await cluster.sign({ sub: "system:serviceaccount:ci:runner", aud: IDP_AUDIENCE }, -600),
    );
    const err = await bearerFailure({ source: "kubernetes", file });
    expect(err.code).toBe("subject_token_unavailable");
    expect(err.message).toMatch(new RegExp(`the token from ${file} expired at \\d{4}-`));
    expect(err.fix).toMatch(/kubelet renews a projected token/);
    expect(h.idp.countGrants(JWT_BEARER_GRANT)).toBe(0);
  });

  it("without a file the pod's default token path is read, and named when it is missing", async () => {
    await clusterHarness();
    const err = await bearerFailure({ source: "kubernetes" });
    expect(err.message).toContain(
      "could not read the subject token from /var/run/secrets/kubernetes.io/serviceaccount/token",
    );
    expect(err.fix).toMatch(/serviceAccountToken volume/);
  });

  it("an assertion for another audience is refused by the IdP: its error, and what to check", async () => {
    const { cluster, file } = await clusterHarness();
    await writeFile(
      file,
      await cluster.sign({ sub: "system:serviceaccount:ci:runner", aud: "https://elsewhere" }),
    );
    const err = await bearerFailure({ file });
    expect(err.idp).toMatchObject({ error: "invalid_grant", status: 400 });
    expect(err.message).toContain("the IdP refused the JWT bearer grant");
    expect(err.message).toContain("The token endpoint answered HTTP 400: invalid_grant");
    expect(err.fix).toMatch(/trusts the assertion's issuer, audience and subject/);
  });
});

describe("GitHub Actions OIDC token", () => {
  async function githubHarness() {
    github = await startGitHubOidcStandIn();
    h = await harness({
      clients: [confidentialClient("svc", "svc-secret")],
      trustedIssuers: [github.trustedIssuer(IDP_AUDIENCE)],
    });
    return github;
  }
  const exchange = (extra: Record<string, unknown> = {}) =>
    h.provider({
      clientId: "svc",
      clientSecret: "svc-secret",
      authFlow: "token_exchange",
      subjectToken: { source: "github-actions", audience: IDP_AUDIENCE },
      ...extra,
    });

  it("token exchange asks the runner for a token with the configured audience", async () => {
    const gh = await githubHarness();
    const result = await h.engine({ env: { ...gh.env } }).ensureAccessToken(exchange());
    expect(result).toMatchObject({ status: "ok", source: "headless" });
    if (result.status === "ok") await h.idp.verifyAccessToken(result.accessToken);
    expect(gh.requests).toEqual([{ audience: IDP_AUDIENCE, authorized: true }]);
    expect(h.idp.countGrants(TOKEN_EXCHANGE_GRANT)).toBe(1);
  });

  it("without the runner's variables it names them and asks about id-token: write", async () => {
    const gh = await githubHarness();
    const err = await oauth2ErrorOf(
      h
        .engine({ env: { ACTIONS_ID_TOKEN_REQUEST_URL: gh.env.ACTIONS_ID_TOKEN_REQUEST_URL } })
        .ensureAccessToken(exchange()),
    );
    expect(err.code).toBe("subject_token_unavailable");
    expect(err.message).toContain("ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set");
    expect(err.fix).toContain("is `permissions: id-token: write` set?");
    const none = await oauth2ErrorOf(h.engine({ env: {} }).ensureAccessToken(exchange()));
    expect(none.message).toContain(
      "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set",
    );
    expect(gh.requests).toEqual([]);
  });

  it("a refused request token is named with the runner's status, never shown", async () => {
    const gh = await githubHarness();
    const env = {
      ...gh.env,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "stale-request-token-from-another-job",
    };
    const err = await oauth2ErrorOf(h.engine({ env }).ensureAccessToken(exchange()));
    expect(err.message).toContain("the GitHub Actions OIDC endpoint (http://127.0.0.1:");
    expect(err.message).toContain("answered HTTP 401");
    expect(err.message).not.toContain("stale-request-token");
    expect(gh.requests).toEqual([{ audience: IDP_AUDIENCE, authorized: false }]);
  });

  it("asks the runner through HTTP(S)_PROXY, like every other request", async () => {
    const gh = await githubHarness();
    const proxy = await startForwardProxy();
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTP_PROXY = proxy.url;
    delete process.env.NO_PROXY;
    try {
      const result = await h.engine({ env: { ...gh.env } }).ensureAccessToken(exchange());
      expect(result).toMatchObject({ status: "ok" });
      const runner = new URL(gh.env.ACTIONS_ID_TOKEN_REQUEST_URL);
      // undici's proxy agent tunnels plain http too: the runner's port, next to the IdP's.
      expect(await proxy.requests()).toContain(`CONNECT ${runner.host}`);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await proxy.close();
    }
  });

  it("an expired token from the runner says so", async () => {
    const gh = await githubHarness();
    gh.setTokenTtl(-300);
    const err = await oauth2ErrorOf(h.engine({ env: { ...gh.env } }).ensureAccessToken(exchange()));
    expect(err.message).toMatch(/the token from GitHub Actions expired at/);
    expect(h.idp.countGrants(TOKEN_EXCHANGE_GRANT)).toBe(0);
  });
});

describe("a federated client assertion (workload identity federation, as Entra ID does it)", () => {
  const ENTRA_EXCHANGE = "api://AzureADTokenExchange";
  async function federated(subject: string) {
    github = await startGitHubOidcStandIn();
    h = await harness({
      clients: [federatedClient("llm-ci")],
      federatedCredentials: [
        { clientId: "llm-ci", issuer: github.trustedIssuer(ENTRA_EXCHANGE), subject },
      ],
    });
    return h.provider({
      clientId: "llm-ci",
      authFlow: "client_credentials",
      clientAssertion: { token: { source: "github-actions", audience: ENTRA_EXCHANGE } },
    });
  }

  it("client_credentials with the job's GitHub token as client_assertion, no secret anywhere", async () => {
    const provider = await federated("repo:octo-org/octo-repo:ref:refs/heads/main");
    expect(provider.client).toMatchObject({ type: "confidential", authMethod: "private_key_jwt" });
    const result = await h.engine({ env: { ...github?.env } }).ensureAccessToken(provider);
    expect(result).toMatchObject({ status: "ok", source: "headless" });
    if (result.status === "ok") {
      expect((await h.idp.verifyAccessToken(result.accessToken)).client_id).toBe("llm-ci");
    }
    expect(github?.requests).toEqual([{ audience: ENTRA_EXCHANGE, authorized: true }]);
  });

  it("a token no federated credential matches: the IdP's refusal, with what to check", async () => {
    const provider = await federated("repo:octo-org/octo-repo:environment:prod");
    const err = await oauth2ErrorOf(
      h.engine({ env: { ...github?.env } }).ensureAccessToken(provider),
    );
    expect(err.idp).toMatchObject({ error: "invalid_client", status: 401 });
    expect(err.message).toContain("AADSTS70021");
    expect(err.fix).toMatch(/federated credential/);
  });
});
