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
  return printableToken(result);
}
