import { type Command, EXIT, UsageError } from "./command.js";
import { requireProvider } from "./context.js";

export const token: Command = {
  name: "token",
  summary: "print a valid access token to stdout (for scripts)",
  usage: "token <provider>",
  maxPositionals: 1,
  options: {},
  help: `Prints the provider's access token, and nothing else, to stdout:
  curl -H "Authorization: Bearer $(opencode-oauth2 token corp)" https://llm.example.com/v1/models

The cached token is used while it is fresh, refreshed when it is about to expire, or minted by
the provider's headless flow (client_credentials, token_exchange). It never prompts: when only
a login can help, it prints why on stderr and exits with code 2.`,
  async run(ctx, { positionals }) {
    const id = positionals[0];
    if (!id) throw new UsageError("name the provider whose token to print");
    const provider = await requireProvider(ctx, id);
    const result = await ctx.engine().ensureAccessToken(provider, { interactive: false });
    if (result.status === "login_required") {
      ctx.out.err(
        `opencode-oauth2: provider "${provider.id}" needs a login (${result.reason.replace("_", " ")}). Run: ${result.command}`,
      );
      return EXIT.loginRequired;
    }
    ctx.out.out(result.accessToken);
    return EXIT.ok;
  },
};
