import type { ProviderConfig } from "@vymalo/oauth2-core";
import type { Command } from "./command.js";
import { type CliContext, failOnConfigProblems, requireProvider } from "./context.js";
import { EXIT, type ExitCode, UsageError } from "./errors.js";

/** Logs one provider out and says what happened; false when revocation was due but failed. */
async function logoutOne(ctx: CliContext, provider: ProviderConfig): Promise<boolean> {
  const engine = ctx.engine();
  const before = await engine.cached(provider);
  const hadRefresh = before.kind === "ok" && Boolean(before.token.refreshToken);
  const where =
    before.kind !== "absent" && before.location === "keyring"
      ? " from the OS keyring and the token file"
      : "";
  const { removed, revocation } = await engine.logout(provider);
  const { style } = ctx.out;
  if (!removed) {
    ctx.out.out(`${provider.id}: not logged in; nothing to remove.`);
    return true;
  }
  if (revocation?.status === "revoked") {
    const how =
      revocation.via === "access_token"
        ? " (with the access token: the IdP does not accept revocation requests from this client alone)"
        : "";
    ctx.out.out(
      `${style.green("✓")} ${provider.id}: removed the cached tokens${where} and revoked the refresh token at ${provider.issuer}${how}.`,
    );
    return true;
  }
  if (!hadRefresh || !revocation) {
    ctx.out.out(
      `${style.green("✓")} ${provider.id}: removed the cached tokens${where} (there was no refresh token to revoke).`,
    );
    return true;
  }
  if (revocation.status === "no_endpoint") {
    ctx.out.out(
      `${style.green("✓")} ${provider.id}: removed the cached tokens${where}. The IdP has no revocation endpoint, so its refresh token stays valid there until it expires (set endpoints.revocation if the IdP has one).`,
    );
    return true;
  }
  const { error } = revocation;
  ctx.out.err(
    `${ctx.out.errStyle.yellow("!")} ${provider.id}: removed the cached tokens${where}, but the session is not ended at the IdP.\n  ${error.summary}\n  Fix: ${error.fix}`,
  );
  return false;
}

export const logout: Command = {
  name: "logout",
  summary: "remove a provider's cached tokens and revoke its refresh token at the IdP",
  usage: "logout <provider> | --all",
  maxPositionals: 1,
  options: { all: { type: "boolean", help: "log out of every managed provider" } },
  notes: `Removes the provider's tokens from the token file and the OS keyring (wherever storage put
them) and, when the IdP has a revocation endpoint, revokes the refresh token there (RFC 7009).
When the tokens are in a keyring that does not answer (locked), nothing is removed: unlock it and
run logout again. Exit code 1 when a revocation was due but failed (the local tokens are
removed all the same).`,
  async run(ctx, { positionals, values }) {
    const id = positionals[0];
    if (id && values.all) throw new UsageError("give a provider or --all, not both");
    let providers: ProviderConfig[];
    if (values.all) {
      const config = await ctx.config();
      failOnConfigProblems(config);
      providers = Object.values(config.providers);
      if (providers.length === 0) ctx.out.out("No managed providers; nothing to do.");
    } else if (id) {
      providers = [await requireProvider(ctx, id)];
    } else {
      throw new UsageError("name the provider to log out of, or use --all");
    }
    let code: ExitCode = EXIT.ok;
    for (const provider of providers) {
      if (!(await logoutOne(ctx, provider))) code = EXIT.error;
    }
    return code;
  },
};
