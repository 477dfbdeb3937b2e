import { warmToken } from "@vymalo/oauth2-core/warm";
import { isPrintable } from "./issued-token.js";

/**
 * The warm path of the plainest credential-helper call, `token <provider>` (raw, optionally with
 * `--config FILE`), tried before the CLI loads anything else: a fresh token in the file, for a
 * config a full run validated as it is now, is printed without loading the core's schemas
 * (see @vymalo/oauth2-core/warm). Anything else — another format or option, --verbose, a stale
 * token, a changed config — returns undefined and the full CLI runs.
 */
export async function warmCall(
  argv: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<string | undefined> {
  const words: string[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if ((arg === "--config" || arg === "-c") && i + 1 < argv.length) {
      i += 1;
      configFile = argv[i];
    } else if ((arg === "--format" || arg === "-f") && argv[i + 1] === "raw") {
      i += 1;
    } else if (arg === "--format=raw") {
      // the default, spelled out
    } else if (arg.startsWith("-")) {
      return undefined;
    } else {
      words.push(arg);
    }
  }
  const [command, providerId, ...rest] = words;
  if (command !== "token" || !providerId || rest.length > 0) return undefined;
  const token = await warmToken({ cwd, env, configFile, providerId }).catch(() => undefined);
  return token && isPrintable(token) ? token.accessToken : undefined;
}
