import { bindingFor } from "@vymalo/oauth2-core";
import { rememberWarm } from "@vymalo/oauth2-core/warm";
import type { CliContext } from "../context.js";
import { requireProvider } from "../context.js";
import { type IssuedToken, printableToken } from "./issued-token.js";

/**
 * A valid access token for provider `id`, never by a prompt: from the cache (no network while
 * it is fresh), refreshed, or minted by the provider's headless flow. When only a login can
 * help, says so on stderr and returns undefined (the caller exits 2 and prints nothing on
 * stdout: tools that read a token there must not mistake a message for one).
 */
export async function obtainToken(ctx: CliContext, id: string): Promise<IssuedToken | undefined> {
  const provider = await requireProvider(ctx, id);
  const result = await ctx.engine().ensureAccessToken(provider, { interactive: false });
  if (result.status === "login_required") {
    ctx.out.err(
      `opencode-oauth2: provider "${provider.id}" needs a login (${result.reason.replace("_", " ")}). Run: ${result.command}`,
    );
    return undefined;
  }
  // The config is valid and the cache holds a token bound to it: the next call with the same
  // config may take the warm path (main.ts), which skips parsing the config.
  await rememberWarm(ctx.env, provider.id, (await ctx.config()).localConfig, {
    bindings: [provider.loginClient, provider.client].map((c) => bindingFor(provider, c)),
    skewMs: provider.tokenExpirySkewMs,
  });
  return printableToken(result);
}
