import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createWorkloadIssuer,
  type TrustedIssuer,
  type WorkloadIssuer,
} from "./workload-issuer.js";

/**
 * A stand-in for the GitHub Actions runner's OIDC token endpoint, on loopback: the same request
 * (GET `$ACTIONS_ID_TOKEN_REQUEST_URL&audience=<aud>` with `Authorization: Bearer
 * $ACTIONS_ID_TOKEN_REQUEST_TOKEN`) and the same answer (`{ "value": "<jwt>" }`, 401 without
 * the right bearer). Its tokens are signed by a workload issuer an IdP can trust
 * (`trustedIssuer(audience)`), with GitHub's claim shapes.
 */
export interface GitHubOidcStandIn {
  /** What the runner sets for a job with `permissions: id-token: write`. */
  readonly env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  readonly issuer: WorkloadIssuer;
  /** Every request, in order: the audience asked for and whether the bearer was right. */
  readonly requests: readonly { audience: string | undefined; authorized: boolean }[];
  /** The trust an IdP needs to accept this stand-in's tokens issued for `audience`. */
  trustedIssuer(audience: string): TrustedIssuer;
  /** Tokens from now on live `seconds` (negative: already expired). */
  setTokenTtl(seconds: number): void;
  close(): Promise<void>;
}

/** `aud` of a token requested without `audience`: GitHub uses the repository owner's URL. */
export const GITHUB_DEFAULT_AUDIENCE = "https://github.com/octo-org";

export async function startGitHubOidcStandIn(): Promise<GitHubOidcStandIn> {
  const requestToken = randomBytes(24).toString("base64url");
  const requests: { audience: string | undefined; authorized: boolean }[] = [];
  let ttl = 300;
  let issuer: WorkloadIssuer | undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const audience = url.searchParams.get("audience") ?? undefined;
    const authorized = req.headers.authorization === `Bearer ${requestToken}`;
    requests.push({ audience, authorized });
    if (req.method !== "GET" || url.pathname !== "/_apis/pipelines/idtoken") {
      res.writeHead(404).end();
      return;
    }
    if (!authorized || !issuer) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Bad credentials" }));
      return;
    }
    issuer
      .sign(
        {
          sub: "repo:octo-org/octo-repo:ref:refs/heads/main",
          aud: audience ?? GITHUB_DEFAULT_AUDIENCE,
          repository: "octo-org/octo-repo",
          ref: "refs/heads/main",
          job_workflow_ref: "octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main",
        },
        ttl,
      )
      .then((value) => {
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify({ count: 1, value }));
      })
      .catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  issuer = await createWorkloadIssuer(`${base}/token-issuer`);
  const workload = issuer;
  return {
    // As on a runner: the URL already has a query, so the client appends `&audience=`.
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/_apis/pipelines/idtoken?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    },
    issuer: workload,
    requests,
    trustedIssuer: (audience) => ({ issuer: workload.issuer, jwks: workload.jwks, audience }),
    setTokenTtl: (seconds) => {
      ttl = seconds;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
