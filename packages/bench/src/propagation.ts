import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ProviderConfig,
  parseProviderConfig,
  silentLogger,
  TokenEngine,
} from "@vymalo/oauth2-core";
import { clearDiscoveryCache } from "@vymalo/oauth2-core/protocol";
import { propagateBearers } from "@vymalo/opencode-oauth2/lib";
import { confidentialClient, startIdp, type TestIdp } from "@vymalo/testkit";
import { interleave, since } from "./stats.js";
import { type Figure, medianRatioFigure } from "./table.js";

const TOKEN_DELAY_MS = 500;

type Config = Parameters<typeof propagateBearers>[0]["config"];

/**
 * Config-time propagation (the plugin's `config` hook work) over 4 providers, each on an IdP
 * that delays every token response by 500 ms, against the same over 1 such provider. Every
 * round starts from empty caches (token files and discovery), so every provider really goes
 * to its IdP. The providers run at once, so 4 should cost about what 1 does.
 */
export async function propagation(runs: number): Promise<Figure[]> {
  const idps: TestIdp[] = [];
  const scratch = await mkdtemp(join(tmpdir(), "bench-propagation-"));
  try {
    for (let i = 0; i < 4; i += 1) {
      idps.push(
        await startIdp({
          clients: [confidentialClient("svc", "svc-secret")],
          tokenDelayMs: TOKEN_DELAY_MS,
        }),
      );
    }
    const providers = idps.map((idp, i) => {
      const parsed = parseProviderConfig(`p${i}`, {
        issuer: idp.issuer,
        clientId: "svc",
        clientSecret: "svc-secret",
        authFlow: "client_credentials",
      });
      if (!("config" in parsed)) throw new Error("invalid provider config");
      return parsed.config;
    });

    let round = 0;
    const propagate = async (set: ProviderConfig[]): Promise<number> => {
      round += 1;
      clearDiscoveryCache();
      const engine = new TokenEngine({ cacheDir: join(scratch, `round-${round}`) });
      const config = { provider: {} } as Config;
      const started = performance.now();
      const outcomes = await propagateBearers({
        config,
        providers: Object.fromEntries(set.map((p) => [p.id, p])),
        engine,
        logger: silentLogger,
      });
      const ms = since(started);
      const failed = Object.entries(outcomes).filter(([, outcome]) => outcome !== "propagated");
      if (failed.length) throw new Error(`propagation did not complete: ${JSON.stringify(failed)}`);
      return ms;
    };
    await propagate(providers); // warm-up (JIT, sockets)
    const grantsBefore = idps.reduce((n, idp) => n + idp.countGrants("client_credentials"), 0);
    const [fourTimes = [], oneTimes = []] = await interleave(runs, [
      () => propagate(providers),
      () => propagate(providers.slice(0, 1)),
    ]);
    const grants = idps.reduce((n, idp) => n + idp.countGrants("client_credentials"), 0);
    if (grants - grantsBefore !== runs * 5) {
      throw new Error(`expected ${runs * 5} token requests, the IdPs saw ${grants - grantsBefore}`);
    }
    return [
      medianRatioFigure(
        "config-time propagation, 4 providers / 1 provider (IdP answers in 500 ms)",
        { a: fourTimes, b: oneTimes },
        () => `, ${runs}+${runs} rounds interleaved, empty caches each round`,
        { op: "≤", target: 1.2 },
      ),
    ];
  } finally {
    await Promise.all(idps.map((idp) => idp.close()));
    await rm(scratch, { recursive: true, force: true });
  }
}
