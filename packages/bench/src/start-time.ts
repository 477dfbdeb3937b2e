import { pathToFileURL } from "node:url";
import {
  confidentialClient,
  createOpencodeHome,
  type OpencodeHome,
  runOpencode,
  startIdp,
  startModelsServer,
} from "@vymalo/testkit";
import { formatMs, interleave, median } from "./stats.js";
import type { Figure } from "./table.js";

/** The workspace builds, loaded the way users load a local plugin (file://…/dist/index.js). */
const OAUTH2_PLUGIN = import.meta.resolve("@vymalo/opencode-oauth2");
const MODELS_INFO_PLUGIN = import.meta.resolve("@vymalo/opencode-models-info");

/** A plugin whose config hook does nothing: the cost of loading any plugin at all. */
const NOOP_PLUGIN = "export const NoopPlugin = async () => ({ config: async () => {} });\n";

/**
 * One of the real plugins with opencode's logging API (`client.app.log`) replaced by a no-op:
 * the same work, minus the log records handed to opencode. A diagnostic, not a configuration.
 */
const withoutOpencodeLog = (name: string, url: string) =>
  `import { ${name} } from ${JSON.stringify(url)};
export const Quiet${name} = (input, options) =>
  ${name}({ ...input, client: { app: { log: async () => true } } }, options);
`;

const DOCUMENT = {
  data: [
    {
      id: "demo-model",
      name: "Demo model",
      context_length: 131072,
      top_provider: { context_length: 131072, max_completion_tokens: 8192 },
      pricing: { prompt: "0.000001", completion: "0.000002" },
      supported_parameters: ["tools", "temperature"],
    },
  ],
};

/**
 * `opencode models corp` with both plugins and a valid cached token (and a cached models
 * document), against the same opencode loading a no-op plugin the same way. A third variant,
 * the same plugins with opencode's logging API stubbed out, shows how much of the difference is
 * the log records. Runs interleave after one warm-up each; figures are ratios of medians.
 */
export async function startTime(runs: number): Promise<Figure[]> {
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
    const quiet = await home("bench-quiet-", async (h) => [
      await fileUrl(h, "oauth2.js", withoutOpencodeLog("OAuth2Plugin", OAUTH2_PLUGIN)),
      await fileUrl(
        h,
        "models-info.js",
        withoutOpencodeLog("ModelsInfoPlugin", MODELS_INFO_PLUGIN),
      ),
    ]);

    const start = async (h: OpencodeHome): Promise<number> => {
      const result = await runOpencode(h, ["models", "corp"], { timeoutMs: 90_000 });
      if (result.code !== 0 || !result.stdout.includes("corp/demo-model")) {
        throw new Error(`opencode models failed (${result.code}):\n${result.stderr.slice(-2000)}`);
      }
      return result.durationMs;
    };
    // Warm-ups: the first start in a home creates its database; the plugins' first start mints
    // the token and fetches the models document into the cache.
    for (const h of [both, noop, quiet]) await start(h);
    const grants = idp.tokenRequests.length;
    const fetches = models.requests.length;
    const [a = [], b = [], c = []] = await interleave(runs, [
      () => start(both),
      () => start(noop),
      () => start(quiet),
    ]);
    if (idp.tokenRequests.length !== grants || models.requests.length !== fetches) {
      throw new Error("the plugins went to the network during the measured starts");
    }
    const [mBoth, mNoop, mQuiet] = [median(a), median(b), median(c)];
    return [
      {
        name: "opencode start (`opencode models corp`), both plugins / no-op plugin",
        value: mBoth / mNoop,
        kind: "ratio",
        goal: { op: "≤", target: 1.05 },
        detail: `${formatMs(mBoth)} / ${formatMs(mNoop)}, ${runs} runs each, interleaved; cached token and document`,
      },
      {
        name: "  same, with opencode's log API stubbed in both plugins / no-op plugin",
        value: mQuiet / mNoop,
        kind: "ratio",
        detail: `${formatMs(mQuiet)} / ${formatMs(mNoop)}: the part of the above that is not log records`,
      },
    ];
  } finally {
    for (const h of homes) await h.cleanup();
    await models.close();
    await idp.close();
  }
}
