// `token --format …` checked by each format's real consumer where one runs here: curl sends the
// header to a model server that verifies the token, sh evaluates the env line, kubectl runs the
// command as its exec credential plugin against an HTTPS API server, and git reads the
// credential-helper answer through `git credential fill`.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type FakeLlm, startChild, startFakeLlm } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { credentialHarness } from "./cli/credential-harness.js";
import { CLI, type CliHarness } from "./cli/harness.js";
import { type KubeApi, kubeconfig, startKubeApi } from "./cli/kube-api.js";

let h: CliHarness;
let llm: FakeLlm | undefined;
let api: KubeApi | undefined;
afterEach(async () => {
  await api?.close();
  await llm?.close();
  api = undefined;
  llm = undefined;
  await h?.close();
});

const JWT = /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/;

const setup = async () => {
  h = await credentialHarness();
};

/** Runs `command` in the harness's isolated environment (no shell unless the command is one). */
async function runTool(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return startChild(command, args, { cwd: h.cwd, env: { ...h.env, ...env }, timeoutMs: 60_000 })
    .done;
}

const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
/** The CLI as one shell command line (git helpers and `sh -c` run it through a shell). */
const cliCommand = (args: string[]) => [process.execPath, CLI, ...args].map(quote).join(" ");

describe("token --format", () => {
  it("json: access_token, token_type and expires_at, nothing else", async () => {
    await setup();
    const result = await h.run(["token", "corp", "--format", "json"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const printed = JSON.parse(result.stdout);
    expect(Object.keys(printed).sort()).toEqual(["access_token", "expires_at", "token_type"]);
    const claims = await h.idp.verifyAccessToken(printed.access_token);
    expect(printed.token_type.toLowerCase()).toBe("bearer");
    // The IdP's lifetime, in epoch seconds (the access token's own exp, give or take a second).
    expect(Math.abs(printed.expires_at - Number(claims.exp))).toBeLessThanOrEqual(1);
  });

  it("header: curl sends it as is, and the model server accepts the token", async () => {
    await setup();
    llm = await startFakeLlm({ verify: (token) => h.idp.verifyAccessToken(token) });
    const header = await h.run(["token", "corp", "--format", "header"]);
    expect(header.stdout).toMatch(/^Authorization: Bearer eyJ\S+\n$/);
    const curl = await runTool("sh", [
      "-c",
      `curl -sS -f -H "$(${cliCommand(["token", "corp", "--format", "header"])})" ${llm.baseURL}/models`,
    ]);
    expect(curl.code, curl.stderr).toBe(0);
    expect(JSON.parse(curl.stdout).data[0].id).toBe("demo-model");
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0]).toMatchObject({ path: "/v1/models", valid: true, status: 200 });
  });

  it("env: a shell's eval exports the token under the default name or --env NAME", async () => {
    await setup();
    const raw = (await h.run(["token", "corp"])).stdout.trim();
    expect(raw).toMatch(JWT);
    const plain = await runTool("sh", [
      "-c",
      `eval "$(${cliCommand(["token", "corp", "--format", "env"])})"; printf %s "$OPENAI_API_KEY"`,
    ]);
    expect(plain).toMatchObject({ code: 0, stdout: raw });
    const named = await runTool("sh", [
      "-c",
      `eval "$(${cliCommand(["token", "corp", "--format", "env", "--env", "CORP_TOKEN"])})"; printf %s "$CORP_TOKEN"`,
    ]);
    expect(named).toMatchObject({ code: 0, stdout: raw });
    // A cached fresh token: the three calls cost one grant.
    expect(h.idp.countGrants("client_credentials")).toBe(1);
  });

  it("refuses options that do not go with the format, and names it", async () => {
    await setup();
    const badName = await h.run(["token", "corp", "--format", "env", "--env", "1NO-GOOD"]);
    expect(badName.code).toBe(64);
    expect(badName.stderr).toMatch(/--env must name an environment variable/);
    const envWithJson = await h.run(["token", "corp", "--format", "json", "--env", "X"]);
    expect(envWithJson.code).toBe(64);
    expect(envWithJson.stderr).toMatch(/--env goes with --format env only/);
    const unknown = await h.run(["token", "corp", "--format", "yaml"]);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/--format must be one of raw, json, header, env/);
    const action = await h.run(["token", "corp", "get"]);
    expect(action.code).toBe(64);
    for (const result of [badName, envWithJson, unknown, action]) expect(result.stdout).toBe("");
    // None of them went to the IdP.
    expect(h.idp.tokenRequests).toHaveLength(0);
  });

  it("when only a login helps: exit 2, the reason on stderr and nothing on stdout, in every format", async () => {
    await setup();
    for (const format of ["raw", "json", "header", "env", "exec-credential"]) {
      const result = await h.run(["token", "user", "--format", format]);
      expect(result.code, format).toBe(2);
      expect(result.stdout, format).toBe("");
      expect(result.stderr).toMatch(
        /provider "user" needs a login \(no token\)\. Run: opencode-oauth2 login user/,
      );
    }
    const git = await h.run(["token", "user", "--format", "git-credential", "get"]);
    expect(git).toMatchObject({ code: 2, stdout: "" });
  });
});

describe("token --format exec-credential, run by kubectl", () => {
  async function kubectl(apiVersion: string) {
    api ??= await startKubeApi(h.root);
    const config = join(h.root, `kubeconfig-${apiVersion.split("/")[1]}`);
    await writeFile(
      config,
      kubeconfig(api, apiVersion, process.execPath, [
        ...[CLI, "token", "corp", "--format", "exec-credential"],
      ]),
    );
    return runTool("kubectl", ["get", "--raw", "/api"], { KUBECONFIG: config });
  }

  it.each(["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])(
    "kubectl sends the token it got in %s as its bearer token",
    async (apiVersion) => {
      await setup();
      const result = await kubectl(apiVersion);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ kind: "APIVersions" });
      const sent = api?.requests.find((r) => r.path === "/api")?.authorization ?? "";
      expect(sent).toMatch(/^Bearer eyJ/);
      const token = sent.replace(/^Bearer /, "");
      expect((await h.idp.verifyAccessToken(token)).client_id).toBe("svc");
      expect(token).toBe((await h.run(["token", "corp"])).stdout.trim());
    },
  );

  it("answers in the apiVersion asked for, v1beta1 when not asked, and refuses others", async () => {
    await setup();
    const info = (apiVersion: string) => ({
      KUBERNETES_EXEC_INFO: JSON.stringify({ kind: "ExecCredential", apiVersion, spec: {} }),
    });
    const v1 = await h.run(["token", "corp", "--format", "exec-credential"], {
      env: info("client.authentication.k8s.io/v1"),
    });
    const credential = JSON.parse(v1.stdout);
    expect(credential).toMatchObject({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token: expect.stringMatching(JWT) },
    });
    // RFC 3339 in whole seconds (rounded down), of the expiry the cache holds for this token.
    const cached = JSON.parse(await readFile(h.tokenFile("corp"), "utf8")) as {
      accessToken: string;
      expiresAt: number;
    };
    expect(cached.accessToken).toBe(credential.status.token);
    expect(credential.status.expirationTimestamp).toBe(
      new Date(Math.floor(cached.expiresAt / 1000) * 1000).toISOString().replace(".000Z", "Z"),
    );
    // That expiry is the token's own: the cache counts expires_in from the answer's arrival, the
    // IdP from its issue, so they agree to within the second it took.
    const claims = await h.idp.verifyAccessToken(credential.status.token);
    expect(Math.abs(cached.expiresAt / 1000 - Number(claims.exp))).toBeLessThanOrEqual(2);
    const bare = await h.run(["token", "corp", "--format", "exec-credential"]);
    expect(JSON.parse(bare.stdout).apiVersion).toBe("client.authentication.k8s.io/v1beta1");

    const grants = h.idp.tokenRequests.length;
    const alpha = await h.run(["token", "corp", "--format", "exec-credential"], {
      env: info("client.authentication.k8s.io/v1alpha1"),
    });
    expect(alpha).toMatchObject({ code: 1, stdout: "" });
    expect(alpha.stderr).toMatch(
      /apiVersion "client\.authentication\.k8s\.io\/v1alpha1", which this command does not write\. Fix: set users\[\]\.user\.exec\.apiVersion/,
    );
    const garbled = await h.run(["token", "corp", "--format", "exec-credential"], {
      env: { KUBERNETES_EXEC_INFO: "{not json" },
    });
    expect(garbled).toMatchObject({ code: 1, stdout: "" });
    expect(garbled.stderr).toMatch(/KUBERNETES_EXEC_INFO is not JSON/);
    expect(h.idp.tokenRequests.length).toBe(grants);
  });
});

describe("token --format git-credential, run by git", () => {
  /** `git credential <verb>` with the helper set for https://git.example.com only. */
  async function git(verb: string, request: string, helperArgs: string[] = []) {
    const config = join(h.root, "gitconfig");
    const helper = cliCommand(["token", "corp", "--format", "git-credential", ...helperArgs]);
    await writeFile(
      config,
      `[credential "https://git.example.com"]\n\thelper = ${JSON.stringify(`!${helper}`)}\n`,
    );
    const input = join(h.root, "git-input");
    await writeFile(input, request);
    return runTool("sh", ["-c", `git credential ${verb} < ${quote(input)}`], {
      GIT_CONFIG_GLOBAL: config,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
    });
  }

  it("git credential fill gets username oauth2 (or --username) and the token as password", async () => {
    await setup();
    const fill = await git("fill", "protocol=https\nhost=git.example.com\npath=team/repo.git\n\n");
    expect(fill.code, fill.stderr).toBe(0);
    const answer = Object.fromEntries(
      fill.stdout
        .trim()
        .split("\n")
        .map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
    expect(answer).toMatchObject({
      protocol: "https",
      host: "git.example.com",
      username: "oauth2",
    });
    expect((await h.idp.verifyAccessToken(answer.password)).client_id).toBe("svc");

    const named = await git("fill", "protocol=https\nhost=git.example.com\n\n", [
      "--username",
      "x-access-token",
    ]);
    expect(named.stdout).toContain("username=x-access-token\n");
    expect(named.stdout).toContain(`password=${answer.password}\n`);
  });

  it("is not asked for other hosts, refuses plain http, and ignores store and erase", async () => {
    await setup();
    const other = await git("fill", "protocol=https\nhost=github.com\n\n");
    expect(other.code).not.toBe(0);
    expect(other.stdout).not.toContain("password=");

    const direct = await runTool("sh", [
      "-c",
      `printf 'protocol=http\\nhost=git.example.com\\n\\n' | ${cliCommand(["token", "corp", "--format", "git-credential", "get"])}`,
    ]);
    expect(direct).toMatchObject({ code: 1, stdout: "" });
    expect(direct.stderr).toMatch(/http:\/\/git\.example\.com, which is not encrypted/);
    const loopback = await runTool("sh", [
      "-c",
      `printf 'protocol=http\\nhost=127.0.0.1:3000\\n\\n' | ${cliCommand(["token", "corp", "--format", "git-credential", "get"])}`,
    ]);
    expect(loopback.code).toBe(0);
    expect(loopback.stdout).toMatch(/^username=oauth2\npassword=eyJ/);

    const grants = h.idp.tokenRequests.length;
    const request = "protocol=https\nhost=git.example.com\nusername=oauth2\npassword=old\n\n";
    for (const verb of ["approve", "reject"]) {
      const result = await git(verb, request);
      expect(result, verb).toMatchObject({ code: 0, stdout: "", stderr: "" });
    }
    expect(h.idp.tokenRequests.length).toBe(grants);
  });
});
