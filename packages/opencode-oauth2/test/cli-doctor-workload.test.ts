// `doctor` on a workload provider's subject token (token_exchange, jwt_bearer), through the
// built CLI: whether the source can be read where doctor runs — the GitHub Actions runner's
// variables (the job's token is not requested), a file, the Kubernetes projected token file, an
// env variable — and whether a JWT read there has expired. The token is never printed.
import { join } from "node:path";
import {
  confidentialClient,
  createWorkloadIssuer,
  JWT_BEARER_GRANT,
  publicNativeClient,
  startGitHubOidcStandIn,
} from "@vymalo/testkit";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { runDoctor } from "./cli/doctor-report.js";
import { type CliHarness, cliHarness, providerConfig } from "./cli/harness.js";

let h: CliHarness;
afterEach(async () => h?.close());

const SECRET = "exchange-secret";
const AUDIENCE = "https://idp.example.test/workload";
const POD = "system:serviceaccount:ci:runner";

/** Provider "ci": a confidential client exchanging the token `subjectToken` reads. */
const exchanging = (subjectToken: object, extra: Record<string, unknown> = {}) =>
  h.writeGlobalConfig(
    providerConfig("ci", {
      issuer: h.idp.issuer,
      clientId: "ci",
      clientSecret: SECRET,
      authFlow: "token_exchange",
      subjectToken,
      ...extra,
    }),
  );

/** doctor's one "subject token" finding for provider "ci". */
const subjectFinding = async () => {
  const result = await runDoctor(h, "ci");
  const findings = result.find("subject token");
  expect(findings, result.stdout).toHaveLength(1);
  return { ...result, finding: findings[0] as NonNullable<(typeof findings)[0]> };
};

describe("doctor: the subject token's source", () => {
  it("github-actions: names the runner's missing variables and the workflow permission; with them set, requests no token and prints no request token", async () => {
    const github = await startGitHubOidcStandIn();
    onTestFinished(() => github.close());
    h = await cliHarness({ clients: [confidentialClient("ci", SECRET)] });
    await exchanging({ source: "github-actions", audience: AUDIENCE });

    const missing = await subjectFinding();
    expect(missing.code).toBe(1);
    expect(missing.finding.level).toBe("error");
    expect(missing.finding.found).toContain(
      "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set",
    );
    expect(missing.finding.fix).toContain("permissions: id-token: write");

    const present = await h.run(["doctor", "ci", "--json"], { env: github.env });
    const report = JSON.parse(present.stdout) as { findings: { check: string; level: string }[] };
    const finding = report.findings.find((f) => f.check === "subject token");
    expect(finding?.level, present.stdout).toBe("ok");
    expect(JSON.stringify(finding)).toContain(AUDIENCE);
    expect(github.requests).toEqual([]);
    expect(present.stdout + present.stderr).not.toContain(
      github.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
    );
  });

  it("a file: missing, holding an expired JWT, holding a valid one — the token never printed", async () => {
    const issuer = await createWorkloadIssuer("https://ci.example.test");
    h = await cliHarness({ clients: [confidentialClient("ci", SECRET)] });
    const file = join(h.root, "ci", "token.jwt");
    await exchanging({ file });

    const missing = await subjectFinding();
    expect(missing.code).toBe(1);
    expect(missing.finding).toMatchObject({ level: "error" });
    expect(missing.finding.found).toContain(`${file} (ENOENT)`);
    expect(missing.finding.fix).toContain("check the file exists");

    const expired = await issuer.sign({ sub: "job-1", aud: AUDIENCE }, -600);
    await h.writeFile("ci/token.jwt", expired);
    const old = await subjectFinding();
    expect(old.code).toBe(1);
    expect(old.finding.level).toBe("error");
    expect(old.finding.found).toMatch(
      new RegExp(`the token from ${file} expired at \\d{4}-\\d\\d-\\d\\dT`),
    );
    expect(old.finding.fix).toContain("renew it before it expires");
    expect(old.stdout + old.stderr).not.toContain(expired);

    const fresh = await issuer.sign({ sub: "job-2", aud: AUDIENCE }, 3600);
    await h.writeFile("ci/token.jwt", fresh);
    const good = await subjectFinding();
    expect(good.finding.level, good.stdout).toBe("ok");
    expect(good.finding.found).toContain(file);
    expect(good.finding.found).toContain('"job-2"');
    expect(good.finding.found).toContain("https://ci.example.test");
    expect(good.stdout + good.stderr).not.toContain(fresh);
  });

  it("kubernetes: the projected token file missing, then present (jwt_bearer)", async () => {
    const cluster = await createWorkloadIssuer("https://kubernetes.default.svc");
    h = await cliHarness({
      clients: [publicNativeClient("ci", { grant_types: [JWT_BEARER_GRANT] })],
    });
    const file = join(h.root, "serviceaccount", "token");
    await h.writeGlobalConfig(
      providerConfig("ci", {
        issuer: h.idp.issuer,
        clientId: "ci",
        authFlow: "jwt_bearer",
        subjectToken: { source: "kubernetes", file },
      }),
    );
    const missing = await subjectFinding();
    expect(missing.code).toBe(1);
    expect(missing.finding.level).toBe("error");
    expect(missing.finding.found).toContain(`${file} (ENOENT)`);
    expect(missing.finding.fix).toContain("projected serviceAccountToken volume");

    const token = await cluster.sign({ sub: POD, aud: AUDIENCE }, 3600);
    await h.writeFile("serviceaccount/token", token);
    const good = await subjectFinding();
    expect(good.finding.level, good.stdout).toBe("ok");
    expect(good.finding.found).toContain(`"${POD}"`);
    expect(good.stdout).not.toContain(token);
  });

  it("env: the variable unset or empty, then set", async () => {
    const issuer = await createWorkloadIssuer("https://gitlab.example.test");
    h = await cliHarness({ clients: [confidentialClient("ci", SECRET)] });
    await exchanging({ env: "CI_JOB_JWT" });

    for (const env of [{}, { CI_JOB_JWT: "  " }]) {
      const result = await h.run(["doctor", "ci", "--json"], { env });
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout) as {
        findings: { check: string; level: string; found: string; fix: string }[];
      };
      const finding = report.findings.find((f) => f.check === "subject token");
      expect(finding).toMatchObject({
        level: "error",
        found: "the environment variable CI_JOB_JWT is empty or unset.",
        fix: "export CI_JOB_JWT with the subject token",
      });
    }

    // An opaque token where subjectToken.type (the default) says JWT: the IdP would refuse it.
    const opaque = await h.run(["doctor", "ci", "--json"], { env: { CI_JOB_JWT: "opaque-v1" } });
    expect(opaque.stdout).not.toContain("opaque-v1");
    const opaqueReport = JSON.parse(opaque.stdout) as {
      findings: { check: string; level: string; fix: string }[];
    };
    const notJwt = opaqueReport.findings.find((f) => f.check === "subject token");
    expect(notJwt?.level).toBe("warn");
    expect(notJwt?.fix).toContain("subjectToken.type");

    const token = await issuer.sign({ sub: "project_path:corp/app", aud: AUDIENCE }, 3600);
    const set = await h.run(["doctor", "ci", "--json"], { env: { CI_JOB_JWT: token } });
    expect(set.stdout).not.toContain(token);
    const report = JSON.parse(set.stdout) as { findings: { check: string; level: string }[] };
    expect(report.findings.find((f) => f.check === "subject token")).toMatchObject({
      level: "ok",
    });
  });

  it("an interactive provider's CI fallback: a source this machine lacks is a warning, not an error", async () => {
    h = await cliHarness({ clients: [confidentialClient("ci", SECRET)] });
    await exchanging(
      { source: "github-actions", audience: AUDIENCE },
      { authFlow: "device_code", headlessFlow: "token_exchange" },
    );
    const { finding } = await subjectFinding();
    expect(finding.level).toBe("warn");
    expect(finding.found).toContain("ACTIONS_ID_TOKEN_REQUEST_URL");
    expect(finding.found).toContain("headlessFlow");
    expect(finding.fix).toContain("permissions: id-token: write");
  });
});
