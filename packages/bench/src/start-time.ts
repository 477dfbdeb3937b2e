import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  confidentialClient,
  createOpencodeHome,
  type OpencodeHome,
  routerModel,
  runOpencode,
  startIdp,
  startModelsServer,
} from "@vymalo/testkit";
import { formatMs, interleave, median, pairedRatio } from "./stats.js";
import type { Figure } from "./table.js";

/** The workspace builds, loaded the way users load a local plugin (file://…/dist/index.js). */
const OAUTH2_PLUGIN = import.meta.resolve("@vymalo/opencode-oauth2");
const MODELS_INFO_PLUGIN = import.meta.resolve("@vymalo/opencode-models-info");

/** A plugin whose config hook does nothing: the cost of loading any plugin at all. */
const NOOP_PLUGIN = "export const NoopPlugin = async () => ({ config: async () => {} });\n";

/**
 * Both real plugins behind a stopwatch, as one plugin module (opencode loads every export):
 * how long importing them took inside opencode, and how long their plugin functions and config
 * hooks took. Appends one JSON line per start to `out`. A diagnostic, not a configuration.
 */
const timedPlugins = (out: string) => `import { appendFileSync } from "node:fs";
const started = performance.now();
const { OAuth2Plugin } = await import(${JSON.stringify(OAUTH2_PLUGIN)});
const { ModelsInfoPlugin } = await import(${JSON.stringify(MODELS_INFO_PLUGIN)});
const importMs = performance.now() - started;
let hooksMs = 0;
let pending = 2;
const timed = (plugin) => async (input, options) => {
  const t = performance.now();
  const hooks = await plugin(input, options);
  hooksMs += performance.now() - t;
  const config = hooks.config;
  return {
    ...hooks,
    config: async (cfg) => {
      const c = performance.now();
      await config?.(cfg);
      hooksMs += performance.now() - c;
      pending -= 1;
      if (pending === 0) appendFileSync(${JSON.stringify(out)}, JSON.stringify({ importMs, hooksMs }) + "\\n");
    },
  };
};
export const TimedOAuth2Plugin = timed(OAuth2Plugin);
export const TimedModelsInfoPlugin = timed(ModelsInfoPlugin);
`;

const DOCUMENT = {
  data: [
    routerModel(
      "demo-model",
      { name: "Demo model", contextLength: 131072, maxOutput: 8192 },
      {
        pricing: { prompt: "0.000001", completion: "0.000002" },
        supported_parameters: ["tools", "temperature"],
      },
    ),
  ],
};

/**
 * `opencode models corp` with both plugins, a valid cached token and a cached models document,
 * against the same opencode loading a no-op plugin the same way: `runs` rounds, interleaved
 * after one warm-up each; the figure is the median of the per-round ratios with a bootstrap
 * interval (a start varies by ±15 % here and the machine drifts during a run; a round's two starts
 * run back to back, so drift cancels in its ratio). Then a few starts of the plugins behind a
 * stopwatch: their import and hooks, timed inside opencode. That is wall time, so it also
 * counts whatever opencode ran concurrently: an upper bound on what the plugins add.
 */
export async function startTime(runs: number, timedRuns: number): Promise<Figure[]> {
  const idp = await startIdp({
    clients: [confidentialClient("svc", "svc-secret")],
    accessTokenTtl: 3600,
  });
  const models = await startModelsServer({
    document: DOCUMENT,
    verify: async (token) => Boolean(await idp.verifyAccessToken(token).catch(() => undefined)),
  });
  const homes: OpencodeHome[] = [];
  try {
    const provider = {
      npm: "@ai-sdk/openai-compatible",
      name: "Corp",
      options: {
        baseURL: models.baseURL,
        oauth2: {
          issuer: idp.issuer,
          clientId: "svc",
          clientSecret: "svc-secret",
          authFlow: "client_credentials",
        },
        meta: { modelsInfoUrl: "models-info.json" },
      },
      models: { "demo-model": {} },
    };
    const home = async (prefix: string, plugins: (h: OpencodeHome) => Promise<string[]>) => {
      const h = await createOpencodeHome({ prefix });
      homes.push(h);
      await h.writeConfig({
        $schema: "https://opencode.ai/config.json",
        plugin: await plugins(h),
        provider: { corp: provider },
      });
      return h;
    };
    const fileUrl = async (h: OpencodeHome, name: string, source: string) =>
      pathToFileURL(await h.writeFile(`plugins/${name}`, source)).href;
    const both = await home("bench-both-", async () => [OAUTH2_PLUGIN, MODELS_INFO_PLUGIN]);
    const noop = await home("bench-noop-", async (h) => [await fileUrl(h, "noop.js", NOOP_PLUGIN)]);
    let timings = "";
    const timed = await home("bench-timed-", async (h) => {
      timings = join(h.root, "timings.jsonl");
      return [await fileUrl(h, "timed.js", timedPlugins(timings))];
    });

    const start = async (h: OpencodeHome): Promise<number> => {
      const result = await runOpencode(h, ["models", "corp"], { timeoutMs: 90_000 });
      if (result.code !== 0 || !result.stdout.includes("corp/demo-model")) {
        throw new Error(`opencode models failed (${result.code}):\n${result.stderr.slice(-2000)}`);
      }
      return result.durationMs;
    };
    // Warm-ups: the first start in a home creates its database; the plugins' first start mints
    // the token and fetches the models document into the cache.
    for (const h of [both, noop, timed]) await start(h);
    const grants = idp.tokenRequests.length;
    const fetches = models.requests.length;
    const [a = [], b = []] = await interleave(runs, [() => start(both), () => start(noop)]);
    await rm(timings, { force: true });
    for (let i = 0; i < timedRuns; i += 1) await start(timed);
    if (idp.tokenRequests.length !== grants || models.requests.length !== fetches) {
      throw new Error("the plugins went to the network during the measured starts");
    }
    const own = (await readFile(timings, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { importMs: number; hooksMs: number });
    if (own.length !== timedRuns)
      throw new Error(`expected ${timedRuns} timings, got ${own.length}`);
    const [mBoth, mNoop] = [median(a), median(b)];
    const paired = pairedRatio(a, b);
    const importMs = median(own.map((t) => t.importMs));
    const hooksMs = median(own.map((t) => t.hooksMs));
    return [
      {
        name: "opencode start (`opencode models corp`), both plugins / no-op plugin",
        value: paired.ratio,
        kind: "ratio",
        goal: { op: "≤", target: 1.05 },
        detail: `median of ${runs} paired rounds, 90 % interval ${paired.low.toFixed(2)}–${paired.high.toFixed(2)}; medians ${formatMs(mBoth)} / ${formatMs(mNoop)} (${(mBoth / mNoop).toFixed(2)})`,
      },
      {
        name: "  upper bound from the plugins' own stopwatch, over the no-op start",
        value: (mNoop + importMs + hooksMs) / mNoop,
        kind: "ratio",
        detail: `(no-op start + import ${formatMs(importMs)} + hooks ${formatMs(hooksMs)}) / no-op start; medians of ${timedRuns} starts`,
      },
    ];
  } finally {
    for (const h of homes) await h.cleanup();
    await models.close();
    await idp.close();
  }
}
