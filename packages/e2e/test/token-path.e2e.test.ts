// `opencode-oauth2 token` is called per request by other tools (Claude Code's apiKeyHelper,
// Codex CLI's auth command, kubectl, git). With a fresh token in the cache it must not go to
// the network or load the protocol stack (openid-client, its oauth4webapi and jose) or the file
// lock (proper-lockfile), nor the OS keyring's native binding (@napi-rs/keyring) while the token
// is in the file: those load on a refresh, a grant or a login. Checked on the built CLI,
// in fresh Node processes, with start-path's import recorder; the cold run is the control that
// shows the recorder sees them.
import { join } from "node:path";
import {
  createOpencodeHome,
  headlessClient,
  headlessProviderConfig,
  type OpencodeHome,
  startIdp,
  type TestIdp,
} from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "./fixtures.js";
import { runRecorded } from "./start-path/recorded-run.js";

const PROTOCOL_PACKAGES = ["openid-client", "oauth4webapi", "jose", "proper-lockfile"];
/** The proxy and TLS agents: only for a request that goes through a proxy or uses tls.* files. */
const WATCHED = [...PROTOCOL_PACKAGES, "undici"];
const KEYRING_PACKAGE = "@napi-rs/keyring";
/** The CLI modules of the commands a `token` call has no use for. */
const OTHER_COMMANDS = ["login", "logout", "status", "doctor", "exec", "well-known"];

let idp: TestIdp;
let home: OpencodeHome;

beforeAll(async () => {
  idp = await startIdp({ clients: [headlessClient()] });
  home = await createOpencodeHome({
    prefix: "token-path-",
    config: headlessProviderConfig(idp.issuer),
    git: false,
  });
});

afterAll(async () => {
  await idp?.close();
  await home?.cleanup();
});

/** One `token corp` in a fresh Node process: what it printed and every module it resolved. */
async function token(name: string, format = "raw", env: NodeJS.ProcessEnv = {}) {
  const result = await runRecorded([CLI, "token", "corp", "--format", format], {
    env: { ...home.env, ...env },
    cwd: home.projectDir,
    record: join(home.root, `${name}.imports`),
    packages: [...WATCHED, KEYRING_PACKAGE],
  });
  expect(result.code, result.stderr).toBe(0);
  const commands = OTHER_COMMANDS.filter((command) =>
    result.urls.some((url) => url.endsWith(`/dist/cli/${command}.js`)),
  );
  return { ...result, commands };
}

describe("a warm `token` call", () => {
  it("reads the cache and loads neither the protocol stack nor the other commands", async () => {
    const cold = await token("cold");
    // Nothing cached: a client-credentials grant, so the protocol stack loads. Storage auto
    // with no session bus here: the token goes to the file without the keyring module loading.
    expect(cold.loaded).toEqual(PROTOCOL_PACKAGES);
    expect(idp.tokenRequests).toHaveLength(1);
    const issued = cold.stdout.trim();
    expect(await idp.verifyAccessToken(issued)).toBeTruthy();
    const discovery = idp.discoveryRequests.length;

    const warm = await token("warm");
    // Fresh token in the cache: the same token, no request to the IdP, none of it loaded.
    expect(warm.stdout.trim()).toBe(issued);
    expect(idp.tokenRequests).toHaveLength(1);
    expect(idp.discoveryRequests).toHaveLength(discovery);
    expect(warm.loaded).toEqual([]);
    expect(warm.commands).toEqual([]);
    // No network module either (fetch is built in; the IdP's counters above cover it).
    expect(warm.urls.filter((u) => /^node:(net|http|https|tls|dns)$/.test(u))).toEqual([]);
    // The recorder did see the CLI; the plain call took the warm path, which is the bin alone
    // (@vymalo/oauth2-core/warm is inlined into it): not the core's main entry (zod and the
    // schemas), not the token command, not even a shared chunk.
    const ours = warm.urls.filter((u) => /\/(opencode-oauth2|oauth2-core)\/dist\//.test(u));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/\/opencode-oauth2\/dist\/cli\/main\.js$/);

    // Every format is as light: the kubectl and git helpers are called per request too (they go
    // through the token command, which reads the cache and loads no protocol code either).
    for (const format of ["json", "header", "env", "exec-credential"]) {
      const run = await token(`warm-${format}`, format);
      expect(run.stdout).toContain(issued);
      expect(run.loaded, format).toEqual([]);
      expect(run.urls.some((u) => u.endsWith("/dist/cli/token.js"))).toBe(true);
    }
    expect(idp.tokenRequests).toHaveLength(1);

    // A proxy in the environment costs a warm call nothing: no request, so no agent.
    const behindProxy = await token("warm-proxy", "raw", { HTTPS_PROXY: "http://127.0.0.1:9" });
    expect(behindProxy.stdout.trim()).toBe(issued);
    expect(behindProxy.loaded).toEqual([]);
  });
});
