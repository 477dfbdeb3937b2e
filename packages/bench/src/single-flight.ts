import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fingerprint, parseProviderConfig, TokenEngine } from "@vymalo/oauth2-core";
import { publicNativeClient, startIdp, startLineWorker, TestBrowser } from "@vymalo/testkit";
import type { Figure } from "./table.js";

const WORKER = fileURLToPath(new URL("./ensure-worker.js", import.meta.url));
const PROCESSES = 4;
const CALLS = 100;

interface WorkerReply {
  ready?: boolean;
  ok?: number;
  tokens?: string[];
}

function startWorker(env: NodeJS.ProcessEnv) {
  return startLineWorker<WorkerReply>(process.execPath, [WORKER], {
    env: { ...process.env, ...env },
  });
}

/**
 * Token requests the IdP receives for one expired token: for 100 concurrent ensures in one
 * process (the in-process single flight), and for 4 processes × 25 concurrent ensures (the
 * file lock across processes). Each is measured over several rounds; the figure is the worst.
 */
export async function singleFlight(rounds: number): Promise<Figure[]> {
  const idp = await startIdp({ clients: [publicNativeClient("cli")], rotateRefreshToken: true });
  const cacheDir = await mkdtemp(join(tmpdir(), "bench-single-flight-"));
  const workers: Array<ReturnType<typeof startWorker>> = [];
  try {
    const browser = new TestBrowser();
    const engine = new TokenEngine({
      cacheDir,
      openBrowser: async (url) => {
        void browser.authorize(url, { followCallback: true }).catch(() => {});
        return true;
      },
    });
    const parsed = parseProviderConfig("corp", {
      issuer: idp.issuer,
      clientId: "cli",
      scopes: "openid offline_access",
      tokenExpirySkewMs: 1000,
    });
    if (!("config" in parsed)) throw new Error("invalid provider config");
    const provider = parsed.config;
    await engine.login(provider);

    const expire = async () => {
      const cached = await engine.cached(provider);
      if (cached.kind !== "ok") throw new Error("no cached token");
      await engine.invalidate(provider, cached.token.accessToken);
    };

    // 1 process, 100 concurrent ensures. A fresh engine per round, like a fresh process.
    const inProcess: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      await expire();
      const before = idp.countGrants("refresh_token");
      const fresh = new TokenEngine({ cacheDir });
      const results = await Promise.all(
        Array.from({ length: CALLS }, () => fresh.ensureAccessToken(provider)),
      );
      const tokens = new Set(
        results.map((r) => (r.status === "ok" ? fingerprint(r.accessToken) : r.status)),
      );
      if (tokens.size !== 1 || results.some((r) => r.status !== "ok")) {
        throw new Error(`in-process round ${round}: not every ensure got the one new token`);
      }
      inProcess.push(idp.countGrants("refresh_token") - before);
    }

    // 4 processes × 25 concurrent ensures, all released at once.
    for (let i = 0; i < PROCESSES; i += 1) {
      workers.push(
        startWorker({ ISSUER: idp.issuer, CACHE_DIR: cacheDir, CALLS: String(CALLS / PROCESSES) }),
      );
    }
    for (const worker of workers) await worker.next();
    const acrossProcesses: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      await expire();
      const before = idp.countGrants("refresh_token");
      for (const worker of workers) worker.send("go");
      const replies = await Promise.all(workers.map((w) => w.next()));
      const tokens = new Set(replies.flatMap((r) => r.tokens ?? []));
      const ok = replies.reduce((n, r) => n + (r.ok ?? 0), 0);
      if (ok !== CALLS || tokens.size !== 1) {
        throw new Error(`process round ${round}: ${ok}/${CALLS} ok, ${tokens.size} tokens`);
      }
      acrossProcesses.push(idp.countGrants("refresh_token") - before);
    }
    if (idp.grantErrors.length) {
      throw new Error(`the IdP answered errors: ${JSON.stringify(idp.grantErrors)}`);
    }
    return [
      {
        name: `token requests for ${CALLS} concurrent ensures on one expired token, 1 process`,
        value: Math.max(...inProcess),
        kind: "count",
        goal: { op: "=", target: 1 },
        detail: `worst of ${rounds} rounds (each: ${inProcess.join(", ")})`,
      },
      {
        name: `token requests for ${PROCESSES} processes × ${CALLS / PROCESSES} concurrent ensures`,
        value: Math.max(...acrossProcesses),
        kind: "count",
        goal: { op: "=", target: 1 },
        detail: `worst of ${rounds} rounds (each: ${acrossProcesses.join(", ")}), 0 invalid_grant`,
      },
    ];
  } finally {
    for (const worker of workers) worker.stop();
    await idp.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
}
