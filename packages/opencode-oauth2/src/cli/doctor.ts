import type { Command } from "./command.js";
import type { CliContext } from "./context.js";
import { checkProvider } from "./doctor/check-provider.js";
import { error, type Finding, ok } from "./doctor/finding.js";
import { checkCacheDir } from "./doctor/local-checks.js";
import { EXIT, UsageError } from "./errors.js";
import { parseFlow } from "./login.js";

/** Config files, and the providers whose oauth2 block does not validate. */
async function checkConfig(ctx: CliContext, only: string | undefined) {
  const config = await ctx.config();
  const findings: Finding[] = [];
  for (const problem of config.problems) {
    findings.push(error("config file", `${problem.path}: ${problem.message}.`, problem.fix));
  }
  if (config.problems.length === 0) {
    findings.push(
      config.sources.length
        ? ok("config files", `read ${config.sources.join(", ")}`)
        : error(
            "config files",
            `no opencode config found (global ${config.globalDir}, $OPENCODE_CONFIG, opencode.json[c] from the git root to here).`,
            "create one with provider.<id>.options.oauth2, or pass --config FILE",
          ),
    );
  }
  const invalid = new Map<string, Finding[]>();
  for (const issue of config.issues) {
    if (only && issue.providerId !== only && issue.providerId !== "*") continue;
    const list = invalid.get(issue.providerId) ?? [];
    list.push({
      ...error("config", `${issue.location}: ${issue.expected}.`, issue.fix),
      provider: issue.providerId,
    });
    invalid.set(issue.providerId, list);
  }
  return { config, findings, invalid };
}

function render(ctx: CliContext, groups: [string, Finding[]][]): void {
  const { style } = ctx.out;
  const icon = { ok: style.green("✓"), warn: style.yellow("!"), error: style.red("✗") };
  for (const [title, findings] of groups) {
    ctx.out.out(style.bold(title));
    for (const f of findings) {
      ctx.out.out(`  ${icon[f.level]} ${f.check}: ${f.found}`);
      if (f.fix && f.level !== "ok") ctx.out.out(`      ${style.dim("fix:")} ${f.fix}`);
    }
    ctx.out.out();
  }
}

export const doctor: Command = {
  name: "doctor",
  summary: "check the config, the IdP and the token cache, and say what to fix",
  usage: "doctor [provider] [--flow browser|device] [--json]",
  maxPositionals: 1,
  options: {
    flow: {
      type: "string",
      value: "browser|device",
      help: "check this login flow instead of the provider's authFlow",
    },
    json: {
      type: "boolean",
      help: "print { errors, warnings, findings: [{ provider, level, check, found, fix }] }",
    },
  },
  notes: `Checks, finding by finding (ok / warn / error, what was found, the fix): the config files and
each oauth2 block; discovery and its issuer; the endpoints the flows need; PKCE S256; the token
endpoint auth method; whether the IdP knows each client (a refresh request with a token that
does not exist: no user, no state, no token minted; an answer without an OAuth error is
compared with the same probe made with a wrong secret or an unknown client id; a refused
confidential client is tried with the other secret method); whether the IdP accepts the login's
redirect URI on any loopback port (the authorization request, no login); whether a public
client may revoke (a token that does not exist); the cached access token's audience; id_token
encryption; the IdP's clock; the loopback redirect port; the token cache's permissions; a
cached token of another issuer or client; a workload provider's subject token source (read
locally; for GitHub Actions only the runner's variables, no token is requested). An answer
doctor cannot interpret is a warning.
Exit code 1 when any finding is an error.`,
  async run(ctx, { positionals, values }) {
    const only = positionals[0];
    const override = parseFlow(values.flow);
    const { config, findings: setup, invalid } = await checkConfig(ctx, only);
    if (only && !config.providers[only] && !invalid.has(only)) {
      const known = [...Object.keys(config.providers), ...invalid.keys()].filter((k) => k !== "*");
      throw new UsageError(
        `no provider "${only}" with an oauth2 block${known.length ? ` (managed providers: ${known.join(", ")})` : ""}`,
      );
    }
    const providers = Object.values(config.providers).filter((p) => !only || p.id === only);
    if (!only && providers.length === 0 && invalid.size === 0 && config.sources.length > 0) {
      setup.push(
        error(
          "providers",
          "no provider has an oauth2 block.",
          'add "options": { "oauth2": { "issuer": …, "clientId": … } } to a provider (docs/configuration.md)',
        ),
      );
    }
    setup.push(...(await checkCacheDir(ctx.engine())));
    const groups: [string, Finding[]][] = [["Setup", setup]];
    for (const [id, findings] of invalid)
      groups.push([id === "*" ? "Plugin options" : id, findings]);
    for (const provider of providers) {
      const findings = await checkProvider(ctx, provider, override);
      groups.push([
        `${provider.id} (${provider.issuer})`,
        findings.map((f) => ({ ...f, provider: provider.id })),
      ]);
    }
    const all = groups.flatMap(([, findings]) => findings);
    const errors = all.filter((f) => f.level === "error").length;
    const warnings = all.filter((f) => f.level === "warn").length;
    if (values.json) {
      ctx.out.json({
        errors,
        warnings,
        findings: all.map((f) => ({
          provider: f.provider ?? null,
          level: f.level,
          check: f.check,
          found: f.found,
          fix: f.fix ?? null,
        })),
      });
    } else {
      render(ctx, groups);
      const { red, green, yellow } = ctx.out.style;
      ctx.out.out(
        errors
          ? red(
              `${errors} error${errors > 1 ? "s" : ""}, ${warnings} warning${warnings === 1 ? "" : "s"}: fix the errors above, then run doctor again.`,
            )
          : warnings
            ? yellow(`No errors, ${warnings} warning${warnings === 1 ? "" : "s"}.`)
            : green("All checks passed."),
      );
    }
    return errors ? EXIT.error : EXIT.ok;
  },
};
