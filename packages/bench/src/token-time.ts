import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createOpencodeHome,
  headlessClient,
  headlessProviderConfig,
  type OpencodeHome,
  startChild,
  startIdp,
} from "@vymalo/testkit";
import { formatMs, interleave, median, pairedRatio } from "./stats.js";
import type { Figure } from "./table.js";

/** The built CLI, as the package's `bin` runs it. */
const CLI_DIR = new URL("./cli/", import.meta.resolve("@vymalo/opencode-oauth2"));
const CLI = fileURLToPath(new URL("main.js", CLI_DIR));

/**
 * Every command module the CLI had before its command table: the start commit's run.ts imported
 * them all up front. Preloaded with `--import`, they make today's `token` load what it did then.
 */
const EAGER_COMMANDS = `${["login", "logout", "status", "doctor"]
  .map((name) => `import ${JSON.stringify(new URL(`${name}.js`, CLI_DIR).href)};`)
  .join("\n")}\n`;

/** Wall time of one process, from spawn to exit; throws when it fails. */
async function timed(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const result = await startChild(process.execPath, argv, { env, cwd }).done;
  if (result.code === 0) return result.durationMs;
  throw new Error(`${argv.join(" ")} exited ${result.code}:\n${result.stderr.slice(-2000)}`);
}

/**
 * A warm `opencode-oauth2 token corp` (a fresh token in the cache, so no network call): what
 * every tool that calls it per request pays. Against `node -e 0`, the floor of any Node
 * command, and against the same call with every command module loaded up front, as the CLI did
 * before commands loaded lazily. `runs` rounds of the three, interleaved (the order rotating),
 * after one warm-up; each figure is the median of the per-round ratios, with a bootstrap
 * interval, as for the start figure. The bench fails if a measured call goes to the IdP.
 */
export async function tokenTime(runs: number): Promise<Figure[]> {
  const idp = await startIdp({ clients: [headlessClient()], accessTokenTtl: 3600 });
  let home: OpencodeHome | undefined;
  try {
    home = await createOpencodeHome({
      prefix: "bench-token-",
      config: headlessProviderConfig(idp.issuer),
      git: false,
    });
    const eager = join(home.root, "eager-commands.mjs");
    await writeFile(eager, EAGER_COMMANDS);
    const { env } = home;
    const cwd = home.projectDir;
    const token = () => timed([CLI, "token", "corp"], env, cwd);
    const before = () => timed(["--import", eager, CLI, "token", "corp"], env, cwd);
    const node = () => timed(["-e", "0"], env, cwd);

    // Warm-up: mints the token into the cache, and warms the file system cache for all three.
    for (const run of [token, before, node]) await run();
    const grants = idp.tokenRequests.length;
    const [t = [], b = [], n = []] = await interleave(runs, [token, before, node]);
    if (idp.tokenRequests.length !== grants || grants !== 1) {
      throw new Error("a measured token call went to the IdP");
    }
    const [mToken, mBefore, mNode] = [median(t), median(b), median(n)];
    const overNode = pairedRatio(t, n);
    const overBefore = pairedRatio(t, b);
    const interval = (p: { low: number; high: number }) =>
      `90 % interval ${p.low.toFixed(2)}–${p.high.toFixed(2)}`;
    return [
      {
        name: "warm `token` call / `node -e 0`",
        value: overNode.ratio,
        kind: "ratio",
        goal: { op: "≤", target: 1.5 },
        detail: `median of ${runs} paired rounds, ${interval(overNode)}; medians ${formatMs(mToken)} / ${formatMs(mNode)}`,
      },
      {
        name: "warm `token` call / the same with every command loaded up front (before)",
        value: overBefore.ratio,
        kind: "ratio",
        detail: `median of ${runs} paired rounds, ${interval(overBefore)}; medians ${formatMs(mToken)} / ${formatMs(mBefore)}`,
      },
    ];
  } finally {
    await home?.cleanup();
    await idp.close();
  }
}
