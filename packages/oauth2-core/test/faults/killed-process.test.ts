// kill -9, twice over: (1) a writer killed in the middle of cache writes, many times — the
// token file is always whole (the old token or the new one, never a torn one) or absent, and
// the temp files a killed writer leaves behind never break a later read or write; (2) a process
// killed while it holds a provider's lock — the next process takes the stale lock over and
// gets its token within a bound, instead of waiting forever. The two run at once: (2) spends
// most of its time waiting for the lock to turn stale.
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { confidentialClient, startChild, startIdp, type TestIdp } from "@vymalo/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProviderConfig } from "../../src/config/parse.js";
import { TokenEngine } from "../../src/engine.js";
import { createLogger, type LogRecord } from "../../src/log.js";
import { StoredTokenSchema } from "../../src/store/token-store.js";

const WRITER = fileURLToPath(new URL("../fixtures/token-writer.mjs", import.meta.url));
const ENSURE = fileURLToPath(new URL("../fixtures/headless-ensure.mjs", import.meta.url));
const ISSUER = "https://idp.example.invalid";
/** 4 lanes (own cache dir each) × 10 kills = 40 kills, lanes in parallel to keep it short. */
const LANES = 4;
const KILLS_PER_LANE = 10;
/** withFileLock's staleMs: a lock whose mtime is older than this is taken over. */
const STALE_MS = 10_000;

const children = new Set<ChildProcess>();
let root: string;
let idp: TestIdp;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "oauth2-kill-"));
  idp = await startIdp({ clients: [confidentialClient("svc", "svc-secret")] });
});
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  idp?.setFailure(null);
  await idp?.close();
  await rm(root, { recursive: true, force: true });
});

function startEnsure(cacheDir: string, httpTimeoutMs: number) {
  const running = startChild(process.execPath, [ENSURE], {
    env: {
      ...process.env,
      ISSUER: idp.issuer,
      CACHE_DIR: cacheDir,
      HTTP_TIMEOUT_MS: String(httpTimeoutMs),
    },
  });
  children.add(running.child);
  const exited = running.done.then(({ code, signal }) => {
    children.delete(running.child);
    return { code, signal };
  });
  return { child: running.child, exited, output: running.output };
}

async function until(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts a writer, waits until it is writing, lets it run a random 0–60 ms, kills it with -9. */
function spawnAndKill(cacheDir: string): Promise<NodeJS.Signals | null> {
  let writing = false;
  const running = startChild(process.execPath, [WRITER], {
    env: { ...process.env, CACHE_DIR: cacheDir, ISSUER },
    timeoutMs: 10_000,
    onStdout: () => {
      if (writing) return;
      writing = true;
      setTimeout(() => running.kill("SIGKILL"), Math.random() * 60);
    },
  });
  children.add(running.child);
  return running.done.then((result) => {
    children.delete(running.child);
    if (result.signal === "SIGKILL") return result.signal;
    throw new Error(`writer exited on its own (${result.code}): ${result.stderr}`);
  });
}

/** What a reader finds right now: absent, or a token that parses with the StoredToken schema. */
async function inspect(cacheDir: string): Promise<"absent" | "whole"> {
  let text: string;
  try {
    text = await readFile(join(cacheDir, "tokens", "corp.json"), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw err;
  }
  const parsed = StoredTokenSchema.safeParse(JSON.parse(text));
  expect(parsed.success, `torn token file: ${text.slice(0, 80)}…${text.slice(-80)}`).toBe(true);
  expect(parsed.data?.providerId).toBe("corp");
  return "whole";
}

describe.concurrent("processes killed with SIGKILL", () => {
  it("never leaves a torn token file, and its leftover temp files never break a later read or write", async () => {
    const outcomes = await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        const cacheDir = join(root, `lane-${lane}`);
        const seen: Array<"absent" | "whole"> = [];
        for (let i = 0; i < KILLS_PER_LANE; i += 1) {
          expect(await spawnAndKill(cacheDir)).toBe("SIGKILL");
          seen.push(await inspect(cacheDir));
        }
        return { cacheDir, seen };
      }),
    );

    let leftovers = 0;
    for (const { cacheDir, seen } of outcomes) {
      // Every kill after the first completed write leaves a whole file (never absent again).
      const first = seen.indexOf("whole");
      if (first >= 0) expect(seen.slice(first).every((s) => s === "whole")).toBe(true);
      const names = await readdir(join(cacheDir, "tokens")).catch(() => [] as string[]);
      leftovers += names.filter((n) => n.endsWith(".tmp")).length;
      expect(names.filter((n) => n.includes(".corrupt-"))).toEqual([]);

      // A later process reads and writes through the leftovers as if they were not there.
      const records: LogRecord[] = [];
      const engine = new TokenEngine({
        cacheDir,
        logger: createLogger({ sink: (r) => records.push(r), level: "debug" }),
        fetch: async () => {
          throw new Error("a valid cached token needs no network");
        },
      });
      const parsed = parseProviderConfig("corp", { issuer: ISSUER, clientId: "cli" });
      if (!("config" in parsed)) throw new Error("invalid config");
      const provider = parsed.config;
      const before = await engine.cached(provider);
      expect(before.kind === "ok" || before.kind === "absent").toBe(true);
      await engine.store.write({
        version: 1,
        providerId: "corp",
        binding: { issuer: ISSUER, clientId: "cli", scopes: ["openid"] },
        flow: "authorization_code",
        accessToken: "after-the-kills",
        tokenType: "Bearer",
        expiresAt: Date.now() + 600_000,
        obtainedAt: Date.now(),
      });
      expect(await engine.ensureAccessToken(provider)).toMatchObject({
        status: "ok",
        source: "cache",
        accessToken: "after-the-kills",
      });
      expect(records.map((r) => r.event)).not.toContain("oauth2_token_cache_corrupt");
    }
    // The kills really landed inside writes (between the temp file and the rename) at least once;
    // otherwise this test would prove nothing about torn writes.
    expect(leftovers).toBeGreaterThan(0);
    expect(outcomes.flatMap((o) => o.seen).filter((s) => s === "whole").length).toBeGreaterThan(
      LANES,
    );
  });

  it("a lock left by a killed holder is taken over by the next process within the stale bound", async () => {
    const cacheDir = join(root, "stale-lock");
    const lockDir = join(cacheDir, "tokens", "svc.json.lock");
    // The IdP swallows the grant: the holder sits inside the lock, waiting for an answer.
    idp.setFailure("hang");
    const holder = startEnsure(cacheDir, 60_000);
    await until(() => idp.countGrants("client_credentials") === 1, 15_000, "the holder's grant");
    expect(existsSync(lockDir)).toBe(true);
    holder.child.kill("SIGKILL");
    expect(await holder.exited).toMatchObject({ signal: "SIGKILL" });
    // The lock is still there: nothing cleaned up after the dead holder.
    expect(existsSync(lockDir)).toBe(true);
    idp.setFailure(null);

    const started = Date.now();
    const next = startEnsure(cacheDir, 5000);
    const exit = await next.exited;
    const elapsed = Date.now() - started;
    expect(exit, next.output().stderr).toMatchObject({ code: 0 });
    const result = JSON.parse(next.output().stdout);
    expect(result).toMatchObject({ status: "ok", source: "headless" });
    expect(result.fingerprint).toMatch(/^sha256:[0-9a-f]{8}$/);
    // It waited for the lock to turn stale (not forever, and not by ignoring the lock).
    expect(elapsed).toBeLessThan(STALE_MS + 10_000);
    expect(result.ms).toBeGreaterThan(STALE_MS / 2);
    expect(idp.countGrants("client_credentials")).toBe(2);
    expect(existsSync(lockDir)).toBe(false);
  });
});
