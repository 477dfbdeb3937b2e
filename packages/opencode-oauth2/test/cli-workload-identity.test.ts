// `opencode-oauth2 token <provider>` in CI without a stored secret, through the built CLI:
// private_key_jwt client authentication (a PEM key the IdP knows by its public JWK), token
// exchange with the job's GitHub Actions OIDC token (a stand-in of the runner's endpoint), and
// jwt_bearer with a Kubernetes token file that rotates between two renewals.
import { generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createWorkloadIssuer,
  federatedClient,
  type GitHubOidcStandIn,
  JWT_BEARER_GRANT,
  privateKeyJwtClient,
  publicNativeClient,
  startGitHubOidcStandIn,
  TOKEN_EXCHANGE_GRANT,
  tokenHash,
} from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";

let h: CliHarness;
let github: GitHubOidcStandIn | undefined;
afterEach(async () => {
  await github?.close();
  github = undefined;
  await h?.close();
});

const JWT = /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/;
const IDP_AUDIENCE = "https://idp.example.test/workload";

function rsaKey() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    pem: privateKey.export({ format: "pem", type: "pkcs8" }) as string,
    publicJwk: publicKey.export({ format: "jwk" }),
  };
}

/** Writes provider `id`: the client "ci-key" signing with `keyFile`, plus `extra`. */
const keyClientProvider = (id: string, keyFile: string, extra: Record<string, unknown>) =>
  h.writeGlobalConfig(
    providerConfig(id, {
      issuer: h.idp.issuer,
      clientId: "ci-key",
      clientAssertion: { keyFile },
      ...extra,
    }),
  );

describe("token with private_key_jwt", () => {
  it("client_credentials: prints a token the IdP issued to the key's client", async () => {
    const key = rsaKey();
    h = await cliHarness({ clients: [privateKeyJwtClient("ci-key", { keys: [key.publicJwk] })] });
    const keyFile = await h.writeFile("keys/ci.pem", key.pem);
    await keyClientProvider("ci", keyFile, { authFlow: "client_credentials" });
    const result = await h.run(["token", "ci"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(JWT);
    expect((await h.idp.verifyAccessToken(result.stdout.trim())).client_id).toBe("ci-key");
    expect(h.idp.tokenRequests.at(-1)).toMatchObject({
      grantType: "client_credentials",
      clientId: "ci-key",
    });
  });

  it("a key file that cannot be read: named, with the field to fix, exit 1", async () => {
    h = await cliHarness({
      clients: [privateKeyJwtClient("ci-key", { keys: [rsaKey().publicJwk] })],
    });
    const keyFile = join(h.root, "keys", "missing.pem");
    await keyClientProvider("ci", keyFile, { authFlow: "client_credentials" });
    const result = await h.run(["token", "ci"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      `could not read the private key file ${keyFile} (ENOENT). Fix: check clientAssertion.keyFile`,
    );
  });

  it("token exchange of the job's GitHub Actions token, the client signing its assertion", async () => {
    const key = rsaKey();
    github = await startGitHubOidcStandIn();
    h = await cliHarness({
      clients: [privateKeyJwtClient("ci-key", { keys: [key.publicJwk] })],
      trustedIssuers: [github.trustedIssuer(IDP_AUDIENCE)],
    });
    const keyFile = await h.writeFile("keys/ci.pem", key.pem);
    await keyClientProvider("ci", keyFile, {
      authFlow: "token_exchange",
      subjectToken: { source: "github-actions", audience: IDP_AUDIENCE },
    });
    const result = await h.run(["token", "ci"], { env: github.env });
    expect(result.code, result.stderr).toBe(0);
    await h.idp.verifyAccessToken(result.stdout.trim());
    expect(github.requests).toEqual([{ audience: IDP_AUDIENCE, authorized: true }]);
    expect(h.idp.countGrants(TOKEN_EXCHANGE_GRANT)).toBe(1);

    // The same job step without `permissions: id-token: write`: the runner sets no variables.
    await keyClientProvider("other", keyFile, {
      authFlow: "token_exchange",
      subjectToken: { source: "github-actions", audience: IDP_AUDIENCE },
    });
    const denied = await h.run(["token", "other"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(
      "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set",
    );
    expect(denied.stderr).toContain("is `permissions: id-token: write` set?");
  });
});

describe("token with a federated client assertion (Entra ID workload identity federation)", () => {
  it("client_credentials with the job's GitHub Actions token as the client's credential", async () => {
    github = await startGitHubOidcStandIn();
    h = await cliHarness({
      clients: [federatedClient("llm-ci")],
      federatedCredentials: [
        {
          clientId: "llm-ci",
          issuer: github.trustedIssuer("api://AzureADTokenExchange"),
          subject: "repo:octo-org/octo-repo:ref:refs/heads/main",
        },
      ],
    });
    await h.writeGlobalConfig(
      providerConfig("ci", {
        issuer: h.idp.issuer,
        clientId: "llm-ci",
        authFlow: "client_credentials",
        clientAssertion: {
          token: { source: "github-actions", audience: "api://AzureADTokenExchange" },
        },
      }),
    );
    const result = await h.run(["token", "ci"], { env: github.env });
    expect(result.code, result.stderr).toBe(0);
    expect((await h.idp.verifyAccessToken(result.stdout.trim())).client_id).toBe("llm-ci");
    expect(github.requests).toEqual([{ audience: "api://AzureADTokenExchange", authorized: true }]);
  });
});

describe("doctor with private_key_jwt", () => {
  it("accepts a registered key, and names an unreadable one with its fix", async () => {
    const key = rsaKey();
    h = await cliHarness({ clients: [privateKeyJwtClient("ci-key", { keys: [key.publicJwk] })] });
    const keyFile = await h.writeFile("keys/ci.pem", key.pem);
    await keyClientProvider("ci", keyFile, { authFlow: "client_credentials" });
    const good = await h.run(["doctor", "ci"]);
    expect(good.code, good.stdout).toBe(0);
    expect(good.stdout).toContain(
      '✓ client auth (headless): confidential client "ci-key" with private_key_jwt',
    );
    expect(good.stdout).toContain(
      '✓ client (headless): the IdP knows "ci-key" (confidential, private_key_jwt) and accepted its authentication',
    );

    const missing = join(h.root, "keys", "gone.pem");
    await keyClientProvider("ci", missing, { authFlow: "client_credentials" });
    const bad = await h.run(["doctor", "ci"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(
      `✗ client (headless): probing "ci-key" (confidential, private_key_jwt) failed: could not read the private key file ${missing} (ENOENT).`,
    );
    expect(bad.stdout).toContain("fix: check clientAssertion.keyFile");
  });
});

describe("token with jwt_bearer and a Kubernetes token file", () => {
  it("each renewal sends the token the file holds then", async () => {
    const cluster = await createWorkloadIssuer("https://kubernetes.default.svc");
    h = await cliHarness({
      clients: [publicNativeClient("ci-key", { grant_types: [JWT_BEARER_GRANT] })],
      // Shorter than tokenExpirySkewMs below: every `token` renews.
      accessTokenTtl: 5,
      trustedIssuers: [{ issuer: cluster.issuer, jwks: cluster.jwks, audience: IDP_AUDIENCE }],
    });
    const pod = () =>
      cluster.sign({ sub: "system:serviceaccount:ci:runner", aud: IDP_AUDIENCE }, 3600);
    const first = await pod();
    const file = await h.writeFile("serviceaccount/token", first);
    await h.writeGlobalConfig(
      providerConfig("ci", {
        issuer: h.idp.issuer,
        clientId: "ci-key",
        authFlow: "jwt_bearer",
        subjectToken: { source: "kubernetes", file },
        tokenExpirySkewMs: 30_000,
      }),
    );
    const one = await h.run(["token", "ci"]);
    expect(one.code, one.stderr).toBe(0);
    const second = await pod();
    await writeFile(file, second); // the kubelet rotated it
    const two = await h.run(["token", "ci"]);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).not.toBe(one.stdout);
    const sent = h.idp.tokenRequests.filter((r) => r.grantType === JWT_BEARER_GRANT);
    expect(sent.map((r) => r.assertionHash)).toEqual([tokenHash(first), tokenHash(second)]);
  });
});
