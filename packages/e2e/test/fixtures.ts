import { fileURLToPath } from "node:url";
import {
  createOpencodeHome,
  type FakeLlm,
  type OpencodeConfig,
  type OpencodeHome,
  opencodeBinPath,
  startChild,
  startFakeLlm,
  type TestIdp,
} from "@vymalo/testkit";

const packageDist = (name: string) => new URL(`../../${name}/dist/index.js`, import.meta.url).href;

/** The workspace builds, loaded the way users load a local plugin. */
export const OAUTH2_PLUGIN = packageDist("opencode-oauth2");
export const MODELS_INFO_PLUGIN = packageDist("opencode-models-info");
export const CLI = fileURLToPath(
  new URL("../../opencode-oauth2/dist/cli/main.js", import.meta.url),
);

/** A fake model server that accepts only tokens the given IdP signed for its audience. */
export function modelServerFor(idp: TestIdp): Promise<FakeLlm> {
  return startFakeLlm({
    verify: async (token) => (await idp.verifyAccessToken(token)) as Record<string, unknown>,
  });
}

/** An openai-compatible provider block managed by the oauth2 plugin. */
export function managedProvider(
  llm: { baseURL: string },
  oauth2: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return {
    npm: "@ai-sdk/openai-compatible",
    name: "Managed",
    options: { baseURL: llm.baseURL, oauth2, ...extra },
    models: { "demo-model": { name: "Demo model" } },
  };
}

export async function home(config: OpencodeConfig): Promise<OpencodeHome> {
  return createOpencodeHome({
    config: { $schema: "https://opencode.ai/config.json", ...config },
    // Every plugin event, not only warnings: the tests read the log.
    env: { OPENCODE_OAUTH2_LOG_LEVEL: "debug" },
  });
}

/** Every chat request the server saw carried a token it accepted (none forced to 401). */
export function allValid(llm: FakeLlm): boolean {
  const chats = llm.chatRequests().filter((r) => !r.forced401);
  return chats.length > 0 && chats.every((r) => r.valid && r.status === 200);
}

/**
 * Runs opencode and lets the test react to its output while it runs (for logins that wait on
 * the user). Resolves with the exit code and everything printed.
 */
export async function runInteractive(
  h: OpencodeHome,
  args: string[],
  onOutput: (text: string) => void,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  const running = startChild(opencodeBinPath(), args, {
    cwd: h.projectDir,
    env: h.env,
    processGroup: true,
    onOutput,
    timeoutMs,
  });
  const result = await running.done;
  const output = running.output().all;
  if (result.timedOut) throw new Error(`opencode ${args.join(" ")} timed out; output:\n${output}`);
  return { code: result.code, output };
}
