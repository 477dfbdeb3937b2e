// The secrets scan: run the flows a user runs — logins, refreshes, headless grants, failures,
// logout, and the CLI — while recording every secret the IdP issued or the client sent, and
// everything a user or a log collector could ever see: every log record (debug included),
// every OAuth2Error (message, fix, detail, log fields, stack, causes) and every CLI stream.
// Not one secret may appear in any of it. (`token` prints an access token on stdout by design:
// only that stdout is left out.)
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  createLogger,
  type FetchLike,
  fingerprint,
  type LogRecord,
  OAuth2Error,
  type ProviderConfig,
  parseProviderConfig,
  TokenEngine,
} from "@vymalo/oauth2-core";
import {
  confidentialClient,
  publicNativeClient,
  readOpenedUrls,
  startChild,
  startIdp,
  startKeyring,
  TestBrowser,
  type TestIdp,
  writeBrowserScript,
} from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "./fixtures.js";

// ---------------------------------------------------------------------------------------------
// What was issued or sent (the secrets), and what anyone could see (the captured text)
// ---------------------------------------------------------------------------------------------
type Kind =
  | "access_token"
  | "refresh_token"
  | "id_token"
  | "authorization_code"
  | "device_code"
  | "pkce_verifier"
  | "client_secret"
  | "subject_token";

const secrets = new Map<string, Kind>();
function addSecret(kind: Kind, value: unknown): void {
  if (typeof value === "string" && value.length >= 8 && !secrets.has(value)) {
    secrets.set(value, kind);
  }
}

/** Secrets in a token request's parameters (and its Basic client authentication). */
function fromRequest(params: Record<string, unknown> | URLSearchParams, authorization?: string) {
  const get = (name: string) =>
    params instanceof URLSearchParams ? params.get(name) : params[name];
  addSecret("authorization_code", get("code"));
  addSecret("pkce_verifier", get("code_verifier"));
  addSecret("refresh_token", get("refresh_token"));
  addSecret("device_code", get("device_code"));
  addSecret("client_secret", get("client_secret"));
  addSecret("subject_token", get("subject_token"));
  if (get("token_type_hint") === "refresh_token") addSecret("refresh_token", get("token"));
  if (authorization?.startsWith("Basic ")) {
    const decoded = Buffer.from(authorization.slice(6), "base64").toString("utf8");
    addSecret("client_secret", decodeURIComponent(decoded.slice(decoded.indexOf(":") + 1)));
  }
}

/** Secrets in a token or device authorization response. */
function fromResponse(body: unknown) {
  if (typeof body !== "object" || body === null) return;
  const b = body as Record<string, unknown>;
  addSecret("access_token", b.access_token);
  addSecret("refresh_token", b.refresh_token);
  addSecret("id_token", b.id_token);
  addSecret("device_code", b.device_code);
}

/** Everything a user, a terminal or a log collector could see, with where it came from. */
const captured: Array<{ where: string; text: string }> = [];
const capture = (where: string, text: string) => captured.push({ where, text });

const records: LogRecord[] = [];
function captureError(where: string, err: unknown): OAuth2Error {
  expect(err).toBeInstanceOf(OAuth2Error);
  const error = err as OAuth2Error;
  capture(`${where}: message`, error.message);
  capture(`${where}: fix`, error.fix);
  capture(`${where}: detail`, error.detail);
  capture(`${where}: log fields`, JSON.stringify(error.toLogFields()));
  capture(`${where}: idp`, JSON.stringify(error.idp ?? {}));
  capture(`${where}: stack`, error.stack ?? "");
  // Whatever a careless caller might print: the cause chain.
  let cause: unknown = error.cause;
  for (let depth = 0; cause && depth < 6; depth += 1) {
    capture(
      `${where}: cause ${depth}`,
      cause instanceof Error ? `${cause.message}\n${cause.stack}` : String(cause),
    );
    cause = (cause as { cause?: unknown }).cause;
  }
  return error;
}

async function expectOAuth2Error(where: string, work: Promise<unknown>): Promise<OAuth2Error> {
  try {
    await work;
  } catch (err) {
    return captureError(where, err);
  }
  throw new Error(`${where}: expected an OAuth2Error`);
}

// ---------------------------------------------------------------------------------------------
// The real parts
// ---------------------------------------------------------------------------------------------
const SVC_SECRET = `svc-${randomBytes(12).toString("hex")}`;
const WRONG_SECRET = `wrong-${randomBytes(12).toString("hex")}`;
const SUBJECT_TOKEN = `subject-${randomBytes(12).toString("hex")}`;

let idp: TestIdp;
let root: string;
const children = new Set<ChildProcess>();

/** Records every secret the IdP issues or receives, whoever the client is (engine or CLI). */
function listen(target: TestIdp): void {
  const op = target.provider;
  op.on("grant.success", (ctx) => {
    fromRequest(ctx.oidc.params ?? {}, ctx.get("authorization"));
    fromResponse(ctx.body);
  });
  op.on("grant.error", (ctx) => fromRequest(ctx.oidc?.params ?? {}, ctx.get("authorization")));
  op.on("authorization_code.saved", (code) => addSecret("authorization_code", code.jti));
  op.on("refresh_token.saved", (token) => addSecret("refresh_token", token.jti));
  op.on("device_code.saved", (code) => addSecret("device_code", code.jti));
}

/** The engine's fetch, seeing every request body and response on its way (flows.test.ts style). */
function intercepting(rewrite?: (body: URLSearchParams) => void): FetchLike {
  return async (url, init = {}) => {
    const headers = new Headers(init.headers);
    if (init.body instanceof URLSearchParams) {
      fromRequest(init.body, headers.get("authorization") ?? undefined);
      rewrite?.(init.body);
      fromRequest(init.body);
    }
    const response = await fetch(url, init);
    const text = await response.clone().text();
    try {
      fromResponse(JSON.parse(text));
    } catch {
      // not JSON (discovery is, errors may not be)
    }
    return response;
  };
}

function engineWith(fetchImpl: FetchLike, browser: TestBrowser): TokenEngine {
  return new TokenEngine({
    cacheDir: join(root, "engine-cache"),
    logger: createLogger({ sink: (r) => records.push(r), level: "debug" }),
    fetch: fetchImpl,
    env: { SUBJECT_TOKEN },
    openBrowser: async (url) => {
      void browser.authorize(url, { followCallback: true }).catch(() => {});
      return true;
    },
  });
}

function provider(id: string, raw: Record<string, unknown>): ProviderConfig {
  const parsed = parseProviderConfig(id, { issuer: idp.issuer, ...raw });
  if (!("config" in parsed)) throw new Error(parsed.issues.map((i) => i.message).join("\n"));
  return parsed.config;
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  onStderr?: (text: string) => void,
): Promise<CliRun> {
  const running = startChild(process.execPath, [CLI, ...args, "--verbose"], {
    cwd: join(root, "project"),
    env,
    timeoutMs: 30_000,
    ...(onStderr ? { onStderr } : {}),
  });
  children.add(running.child);
  return running.done.then(({ code, stdout, stderr }) => {
    children.delete(running.child);
    return { code, stdout, stderr };
  });
}

/**
 * The CLI's environment (`dirs`: HOME and the XDG dirs, and anything else to set) and its
 * opencode config there: "corp", logged in through the browser, and "svc", client credentials
 * with its secret from $SVC_SECRET. `oauth2` is added to both providers' blocks.
 */
async function cliEnvironment(
  dirs: Record<string, string> & { XDG_CONFIG_HOME: string },
  browserLog: string,
  oauth2: Record<string, unknown> = {},
): Promise<NodeJS.ProcessEnv> {
  const configFile = join(dirs.XDG_CONFIG_HOME, "opencode", "opencode.json");
  await mkdir(dirname(configFile), { recursive: true });
  const block = (fields: Record<string, unknown>) => ({
    options: { oauth2: { issuer: idp.issuer, ...fields, ...oauth2 } },
  });
  await writeFile(
    configFile,
    JSON.stringify({
      provider: {
        corp: block({ clientId: "cli", scopes: "openid offline_access" }),
        svc: block({
          clientId: "svc",
          clientSecret: "{env:SVC_SECRET}",
          authFlow: "client_credentials",
        }),
      },
    }),
  );
  return {
    PATH: process.env.PATH,
    ...dirs,
    BROWSER: await writeBrowserScript(root, browserLog),
    SVC_SECRET,
  };
}

/** `login corp` through $BROWSER and the loopback callback; the test browser plays the user. */
async function cliLogin(env: NodeJS.ProcessEnv, browserLog: string): Promise<CliRun> {
  const loginRun = runCli(["login", "corp"], env);
  let opened: string | undefined;
  for (let i = 0; i < 400 && !opened; i += 1) {
    [opened] = await readOpenedUrls(browserLog);
    if (!opened) await new Promise((r) => setTimeout(r, 25));
  }
  if (!opened) throw new Error("the CLI never opened the browser");
  await new TestBrowser().authorize(opened, { followCallback: true });
  return loginRun;
}

/** Every regular file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "oauth2-secrets-"));
  await mkdir(join(root, "project"), { recursive: true });
  idp = await startIdp({
    clients: [publicNativeClient("cli"), confidentialClient("svc", SVC_SECRET)],
    acceptedSubjectTokens: [SUBJECT_TOKEN],
    pkceRequired: true,
  });
  listen(idp);
  for (const value of [SVC_SECRET, WRONG_SECRET]) addSecret("client_secret", value);
  addSecret("subject_token", SUBJECT_TOKEN);
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await idp?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("the secrets scan", () => {
  it("no token, code, verifier or secret appears in any log record, error or CLI output", async () => {
    const browser = new TestBrowser();
    const engine = engineWith(intercepting(), browser);
    const human = provider("corp", { clientId: "cli", scopes: "openid offline_access profile" });
    const device = provider("dev", {
      clientId: "cli",
      authFlow: "device_code",
      scopes: "openid offline_access",
    });
    const svc = provider("svc", {
      clientId: "svc",
      clientSecret: SVC_SECRET,
      authFlow: "client_credentials",
    });
    const exchange = provider("xchg", {
      clientId: "svc",
      clientSecret: SVC_SECRET,
      authFlow: "token_exchange",
      subjectToken: { env: "SUBJECT_TOKEN" },
    });

    // Browser login (code + PKCE), then a refresh with rotation, an invalidation and another.
    const login = await engine.ensureAccessToken(human, { interactive: true });
    expect(login).toMatchObject({ status: "ok", source: "login" });
    const cached = await engine.cached(human);
    if (cached.kind !== "ok") throw new Error("no token");
    expect(await engine.invalidate(human, cached.token.accessToken)).toBe(true);
    expect(await engine.ensureAccessToken(human)).toMatchObject({ source: "refresh" });

    // Device login.
    expect(
      await engine.ensureAccessToken(device, {
        interactive: true,
        prompter: {
          onDeviceCode: (info) => {
            void browser.approveDevice(info.verificationUri, info.userCode);
          },
        },
      }),
    ).toMatchObject({ status: "ok", source: "login" });

    // Client credentials and token exchange.
    expect(await engine.ensureAccessToken(svc)).toMatchObject({ source: "headless" });
    expect(await engine.ensureAccessToken(exchange)).toMatchObject({ source: "headless" });
    expect(await engine.ensureAccessToken(svc)).toMatchObject({ source: "cache" });

    // A revoked refresh token: refresh_rejected, then a login is needed.
    const deviceToken = await engine.cached(device);
    if (deviceToken.kind !== "ok") throw new Error("no device token");
    expect(await idp.revokeRefreshToken(deviceToken.token.refreshToken as string)).toBe(true);
    await engine.invalidate(device, deviceToken.token.accessToken);
    expect(await engine.ensureAccessToken(device)).toMatchObject({
      status: "login_required",
      reason: "refresh_rejected",
    });

    // A wrong client secret.
    const wrong = provider("wrong", {
      clientId: "svc",
      clientSecret: WRONG_SECRET,
      authFlow: "client_credentials",
    });
    const refused = await expectOAuth2Error("wrong secret", engine.ensureAccessToken(wrong));
    expect(refused.idp?.error).toBe("invalid_client");

    // A wrong PKCE verifier, swapped on its way to the token endpoint.
    const corrupting = engineWith(
      intercepting((body) => {
        if (body.has("code_verifier"))
          body.set("code_verifier", randomBytes(32).toString("base64url"));
      }),
      browser,
    );
    const badVerifier = await expectOAuth2Error(
      "wrong verifier",
      corrupting.login(provider("pkce", { clientId: "cli" })),
    );
    expect(badVerifier.idp?.error).toBe("invalid_grant");

    // Logout with revocation.
    expect(await engine.logout(human)).toEqual({
      removed: true,
      revoked: true,
      revocation: { status: "revoked", via: "client" },
    });

    // ---- The CLI, as child processes with --verbose (every engine record on stderr) --------
    const cliHome = join(root, "cli");
    const browserLog = join(root, "browser.log");
    const env = await cliEnvironment(
      {
        HOME: join(cliHome, "home"),
        XDG_CONFIG_HOME: join(cliHome, "config"),
        XDG_CACHE_HOME: join(cliHome, "cache"),
      },
      browserLog,
    );
    const cli = async (args: string[], options: { stdoutHasToken?: boolean } = {}) => {
      const result = await runCli(args, env);
      if (!options.stdoutHasToken) capture(`cli ${args.join(" ")}: stdout`, result.stdout);
      capture(`cli ${args.join(" ")}: stderr`, result.stderr);
      return result;
    };

    const loggedIn = await cliLogin(env, browserLog);
    capture("cli login: stdout", loggedIn.stdout);
    capture("cli login: stderr", loggedIn.stderr);
    expect(loggedIn.code, loggedIn.stderr).toBe(0);
    // --verbose really puts the engine's records on stderr, so they are in the scan.
    expect(loggedIn.stderr).toContain('"event":"oauth2_login_succeeded"');

    expect((await cli(["status"])).code).toBe(0);
    expect((await cli(["status", "--json"])).code).toBe(0);
    const token = await cli(["token", "corp"], { stdoutHasToken: true });
    expect(token.code).toBe(0);
    addSecret("access_token", token.stdout.trim());
    const headlessToken = await cli(["token", "svc"], { stdoutHasToken: true });
    expect(headlessToken.code).toBe(0);
    expect(headlessToken.stderr).toContain('"event":"oauth2_headless_token_obtained"');
    addSecret("access_token", headlessToken.stdout.trim());
    const doctor = await cli(["doctor"]);
    expect(doctor.stdout).toContain("corp");
    expect((await cli(["logout", "corp"])).code).toBe(0);
    // After logout there is nothing to print: exit 2, and its message is captured too.
    expect((await cli(["token", "corp"])).code).toBe(2);

    // ---- The scan ---------------------------------------------------------------------------
    for (const record of records) capture(`log ${record.event}`, JSON.stringify(record));

    const byKind = new Map<Kind, number>();
    for (const kind of secrets.values()) byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    // The collection is real, so the scan cannot pass vacuously.
    expect(secrets.size).toBeGreaterThan(20);
    expect(Object.fromEntries(byKind)).toMatchObject({
      access_token: expect.any(Number),
      refresh_token: expect.any(Number),
      id_token: expect.any(Number),
      authorization_code: expect.any(Number),
      device_code: expect.any(Number),
      pkce_verifier: expect.any(Number),
      client_secret: expect.any(Number),
      subject_token: expect.any(Number),
    });
    expect(byKind.get("access_token")).toBeGreaterThanOrEqual(6);
    expect(byKind.get("refresh_token")).toBeGreaterThanOrEqual(3);
    expect(byKind.get("authorization_code")).toBeGreaterThanOrEqual(3);
    expect(byKind.get("pkce_verifier")).toBeGreaterThanOrEqual(3);
    expect(byKind.get("id_token")).toBeGreaterThanOrEqual(2);
    expect(records.filter((r) => r.level === "debug").length).toBeGreaterThan(0);
    expect(captured.filter((c) => c.where.startsWith("cli")).length).toBeGreaterThanOrEqual(12);

    const needles = [...secrets].flatMap(([value, kind]) => {
      const list = [{ kind, value }];
      // A JWT's signature is the part nobody else can forge: it must not appear on its own.
      const signature = value.split(".")[2];
      if (signature && signature.length >= 20) list.push({ kind, value: signature });
      return list;
    });
    const hits: Array<{ kind: Kind; where: string; fingerprint: string | undefined }> = [];
    for (const { where, text } of captured) {
      for (const { kind, value } of needles) {
        if (text.includes(value)) hits.push({ kind, where, fingerprint: fingerprint(value) });
      }
    }
    expect(hits).toEqual([]);
  });

  it("storage keyring: no token in any file under the home, and the keyring holds them", async () => {
    const keyring = await startKeyring();
    try {
      // The user's home is the keyring daemon's: its own (encrypted) keyring file is scanned too.
      const home = keyring.env.HOME;
      const browserLog = join(root, "keyring-browser.log");
      const env = await cliEnvironment(
        {
          HOME: home,
          XDG_CONFIG_HOME: join(home, ".config"),
          XDG_CACHE_HOME: join(home, ".cache"),
          DBUS_SESSION_BUS_ADDRESS: keyring.env.DBUS_SESSION_BUS_ADDRESS,
        },
        browserLog,
        { storage: "keyring" },
      );
      const before = secrets.size;
      const loggedIn = await cliLogin(env, browserLog);
      expect(loggedIn.code, loggedIn.stderr).toBe(0);
      const token = await runCli(["token", "corp"], env);
      expect(token.code).toBe(0);
      const headless = await runCli(["token", "svc"], env);
      expect(headless.code).toBe(0);
      const status = await runCli(["status", "--json"], env);
      expect(JSON.parse(status.stdout)).toEqual([
        expect.objectContaining({ provider: "corp", state: "valid", storage: "keyring" }),
        expect.objectContaining({ provider: "svc", state: "valid", storage: "keyring" }),
      ]);
      // The keyring really has them (so the scan below is not vacuous): read back by secret-tool.
      const tokensDir = join(home, ".cache", "opencode-oauth2", "tokens");
      const stored = JSON.parse(
        (await keyring.lookup({ service: "opencode-oauth2", username: `corp@${tokensDir}` })) ??
          "{}",
      );
      expect(stored.accessToken).toBe(token.stdout.trim());
      expect(stored.refreshToken).toBeTruthy();
      // This login's secrets, as the IdP issued them (refresh token, id token, code, verifier…).
      const issued = [...secrets.keys()].slice(before);
      expect(issued.length).toBeGreaterThanOrEqual(4);
      expect(issued).toContain(stored.refreshToken);

      const files = await filesUnder(home);
      expect(files.map((f) => f.slice(home.length))).toEqual(
        expect.arrayContaining(["/.cache/opencode-oauth2/tokens/corp.json"]),
      );
      const hits: Array<{ file: string; kind: Kind | undefined }> = [];
      for (const file of files) {
        const text = await readFile(file, "latin1");
        for (const value of secrets.keys()) {
          if (text.includes(value))
            hits.push({ file: file.slice(home.length), kind: secrets.get(value) });
        }
      }
      expect(hits).toEqual([]);
    } finally {
      await keyring.close();
    }
  });
});
