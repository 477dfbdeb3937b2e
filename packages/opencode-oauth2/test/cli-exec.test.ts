// `opencode-oauth2 exec <provider> -- <command…>`: the command runs with the token in its
// environment, with this process's stdio, and its exit code is passed on as a shell would.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type FakeLlm, startFakeLlm } from "@vymalo/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { credentialHarness } from "./cli/credential-harness.js";
import type { CliHarness } from "./cli/harness.js";

let h: CliHarness;
let llm: FakeLlm | undefined;
afterEach(async () => {
  await llm?.close();
  llm = undefined;
  await h?.close();
});

const setup = async () => {
  h = await credentialHarness();
};

describe("exec", () => {
  it("gives an OpenAI-compatible client the token in OPENAI_API_KEY, and its output", async () => {
    await setup();
    llm = await startFakeLlm({ verify: (token) => h.idp.verifyAccessToken(token) });
    const result = await h.run([
      "exec",
      "corp",
      "--",
      "sh",
      "-c",
      `curl -sS -f -H "Authorization: Bearer $OPENAI_API_KEY" ${llm.baseURL}/models`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).data[0].id).toBe("demo-model");
    expect(llm.requests[0]).toMatchObject({ valid: true, status: 200 });
    expect(llm.requests[0]?.claims?.client_id).toBe("svc");
  });

  it("uses --env NAME, runs no shell, and passes the arguments as they are", async () => {
    await setup();
    const token = (await h.run(["token", "corp"])).stdout.trim();
    const result = await h.run([
      "exec",
      "corp",
      "--env",
      "CORP_TOKEN",
      "--",
      process.execPath,
      "-e",
      "process.stdout.write(JSON.stringify([process.env.CORP_TOKEN, process.env.OPENAI_API_KEY ?? null, process.argv.slice(1)]))",
      "$HOME",
      "--verbose",
      "a b",
    ]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(result.stdout)).toEqual([token, null, ["$HOME", "--verbose", "a b"]]);
  });

  it("exits with the command's exit code, 128 + n for signal n, 127 for a missing command", async () => {
    await setup();
    expect((await h.run(["exec", "corp", "--", "sh", "-c", "exit 7"])).code).toBe(7);
    expect((await h.run(["exec", "corp", "--", "sh", "-c", "kill -TERM $$"])).code).toBe(143);
    expect((await h.run(["exec", "corp", "--", "sh", "-c", "kill -KILL $$"])).code).toBe(137);
    const missing = await h.run(["exec", "corp", "--", "no-such-command-here"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/cannot run "no-such-command-here"/);
  });

  it("passes SIGTERM on to the command and exits when it does", async () => {
    await setup();
    const running = h.start([
      "exec",
      "corp",
      "--",
      "sh",
      "-c",
      `trap 'echo got TERM >&2; exit 42' TERM; echo ready >&2; while :; do sleep 0.1; done`,
    ]);
    await running.waitForStderr(/ready/);
    running.child.kill("SIGTERM");
    const result = await running.done;
    expect(result.stderr).toContain("got TERM");
    expect(result.code).toBe(42);
  });

  it("does not run the command when only a login helps: exit 2, nothing on stdout", async () => {
    await setup();
    const marker = join(h.root, "ran");
    const result = await h.run(["exec", "user", "--", "sh", "-c", `echo ran; touch '${marker}'`]);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toMatch(/provider "user" needs a login \(no token\)/);
    expect(existsSync(marker)).toBe(false);
  });

  it("says what is missing on a bad command line", async () => {
    await setup();
    const noCommand = await h.run(["exec", "corp"]);
    expect(noCommand.code).toBe(64);
    expect(noCommand.stderr).toMatch(/name the command to run after --/);
    const badName = await h.run(["exec", "corp", "--env", "A-B", "--", "true"]);
    expect(badName.code).toBe(64);
    expect(badName.stderr).toMatch(/--env must name an environment variable/);
    expect(h.idp.tokenRequests).toHaveLength(0);
  });
});
