import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PluginInput } from "@opencode-ai/plugin";
import {
  confidentialClient,
  type ModelsServer,
  startIdp,
  startModelsServer,
  type TestIdp,
} from "@vymalo/testkit";
import { type ConfigLike, createModelsInfoPlugin, type ModelsInfoPluginDeps } from "../src/lib.js";

/** An OpenRouter-shaped document: prices are USD per token, as strings, like OpenRouter's. */
export const DOCUMENT = {
  data: [
    {
      id: "team/coder",
      name: "Team Coder",
      context_length: 131072,
      top_provider: { context_length: 131072, max_completion_tokens: 16384 },
      pricing: {
        prompt: "0.000003",
        completion: "0.000015",
        input_cache_read: "0.0000003",
        input_cache_write: "0.00000375",
      },
      architecture: { input_modalities: ["text", "image", "file"], output_modalities: ["text"] },
      supported_parameters: ["tools", "temperature", "include_reasoning"],
    },
    {
      id: "team/small",
      name: "Team Small",
      context_length: 32768,
      top_provider: { context_length: null, max_completion_tokens: 4096 },
      pricing: { prompt: 0.0000001, completion: 0.0000004 },
      architecture: { input_modalities: ["text"], output_modalities: ["text"] },
      supported_parameters: ["temperature"],
    },
  ],
};

/** One log record as opencode's `client.app.log` received it. */
export interface SeenRecord {
  service: string;
  level: string;
  event: string;
  [field: string]: unknown;
}

export interface Harness {
  idp: TestIdp;
  server: ModelsServer;
  cacheDir: string;
  /** The models cache's clock (the token engine keeps the real one). */
  clock: { now: number };
  records: SeenRecord[];
  events(name: string): SeenRecord[];
  /** The oauth2 block of a client-credentials provider on this IdP. */
  oauth2(extra?: Record<string, unknown>): Record<string, unknown>;
  /** A provider entry served by `server`, oauth2-managed unless `oauth2: false`. */
  provider(input?: {
    meta?: Record<string, unknown>;
    models?: Record<string, unknown>;
    oauth2?: Record<string, unknown> | false;
  }): { npm: string; options: Record<string, unknown>; models?: Record<string, unknown> };
  /** Builds a fresh plugin instance (as a new opencode process would) and runs its config hook. */
  run<C extends ConfigLike>(config: C, deps?: ModelsInfoPluginDeps): Promise<C>;
  /** The plugin instance of the previous `run`, to run its hook again in the same "process". */
  rerun<C extends ConfigLike>(config: C): Promise<C>;
  close(): Promise<void>;
}

export async function harness(options: { verify?: boolean } = {}): Promise<Harness> {
  const idp = await startIdp({ clients: [confidentialClient("svc", "s3cret")] });
  const server = await startModelsServer({
    document: DOCUMENT,
    ...(options.verify === false
      ? {}
      : {
          verify: (token: string) =>
            idp.verifyAccessToken(token).then(
              () => true,
              () => false,
            ),
        }),
  });
  const cacheDir = await mkdtemp(join(tmpdir(), "models-info-"));
  const clock = { now: Date.UTC(2030, 0, 1) };
  const records: SeenRecord[] = [];
  const client = {
    app: {
      log: async ({ body }: { body: Record<string, unknown> }) => {
        const { service, level, message, extra } = body as {
          service: string;
          level: string;
          message: string;
          extra?: Record<string, unknown>;
        };
        records.push({ ...extra, service, level, event: message });
        return true;
      },
    },
  } as unknown as PluginInput["client"];
  let lastHook: ((config: ConfigLike) => Promise<void>) | undefined;

  const oauth2 = (extra: Record<string, unknown> = {}) => ({
    issuer: idp.issuer,
    clientId: "svc",
    clientSecret: "s3cret",
    authFlow: "client_credentials",
    ...extra,
  });

  return {
    idp,
    server,
    cacheDir,
    clock,
    records,
    events: (name) => records.filter((r) => r.event === name),
    oauth2,
    provider: (input = {}) => ({
      npm: "@ai-sdk/openai-compatible",
      options: {
        baseURL: server.baseURL,
        meta: { modelsInfoUrl: "models-info.json", ...input.meta },
        ...(input.oauth2 === false ? {} : { oauth2: input.oauth2 ?? oauth2() }),
      },
      ...(input.models ? { models: input.models } : {}),
    }),
    async run(config, deps = {}) {
      const plugin = createModelsInfoPlugin({
        // The config a test hands the hook is the user's own, as if read from their files.
        localConfig: (handed) => handed,
        cacheDir,
        now: () => clock.now,
        logLevel: "debug",
        ...deps,
      });
      const hooks = await plugin({ client } as PluginInput);
      lastHook = hooks.config as (config: ConfigLike) => Promise<void>;
      await lastHook(config);
      return config;
    },
    async rerun(config) {
      if (!lastHook) throw new Error("run() first");
      await lastHook(config);
      return config;
    },
    async close() {
      await server.close();
      await idp.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

/** What a file is right now: inode, mtime, mode and a hash of its bytes. */
export async function fileState(path: string) {
  const [info, bytes] = await Promise.all([stat(path), readFile(path)]);
  return {
    ino: info.ino,
    mtimeMs: Math.round(info.mtimeMs),
    mode: info.mode & 0o777,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

/** The cache files under the harness's cache dir. */
export async function cachedFiles(cacheDir: string): Promise<string[]> {
  const dir = join(cacheDir, "models-info");
  return (await readdir(dir).catch(() => [] as string[]))
    .filter((f) => f.endsWith(".json"))
    .map((f) => join(dir, f));
}

export const DAY = 24 * 60 * 60 * 1000;
