import { OAuth2Error, type ProviderConfig, type ReadResult } from "@vymalo/oauth2-core";
import type { Command } from "./command.js";
import { type CliContext, failOnConfigProblems } from "./context.js";
import { EXIT } from "./errors.js";
import { formatExpiry } from "./human-time.js";
import { identityOf } from "./identity.js";
import { formatTable } from "./output.js";

export type TokenState =
  | "valid"
  | "expired"
  | "logged_out"
  | "foreign"
  | "invalid_config"
  /** The tokens are in a keyring that did not answer (locked, no Secret Service). */
  | "unreadable";

/** One provider as `status --json` prints it. Holds no token, only facts about it. */
export interface ProviderStatus {
  provider: string;
  state: TokenState;
  /** A token can be had without a login: valid, refreshable, or minted by a headless flow. */
  loggedIn: boolean;
  flow?: string;
  issuer?: string;
  clientId?: string;
  /** Configured scopes. */
  scopes?: string[];
  /** Scopes the IdP granted, when it said. */
  grantedScopes?: string[] | null;
  subject?: string | null;
  /** ISO 8601, null when no token or no expiry. */
  expiresAt?: string | null;
  /** Seconds from now (negative once expired), null when unknown. */
  expiresIn?: number | null;
  refreshAvailable?: boolean;
  /** Where the tokens live: the OS keyring or the token file; null when there are none. */
  storage?: "keyring" | "file" | null;
  /** For "foreign": the issuer and client the cached token was minted for. */
  cachedFor?: { issuer: string; clientId: string };
  /** For "invalid_config" and "unreadable": what to fix. */
  issues?: string[];
}

function statusOf(provider: ProviderConfig, read: ReadResult, now: number): ProviderStatus {
  const base = {
    provider: provider.id,
    flow: provider.authFlow,
    issuer: provider.issuer,
    clientId: provider.loginClient.clientId,
    scopes: provider.scopes,
  };
  const headless = provider.headlessFlow !== undefined;
  if (read.kind !== "ok") {
    return {
      ...base,
      state: read.kind === "foreign" ? "foreign" : "logged_out",
      loggedIn: headless,
      grantedScopes: null,
      subject: null,
      expiresAt: null,
      expiresIn: null,
      refreshAvailable: false,
      storage: read.kind === "foreign" ? read.location : null,
      ...(read.kind === "foreign"
        ? {
            cachedFor: { issuer: read.token.binding.issuer, clientId: read.token.binding.clientId },
          }
        : {}),
    };
  }
  const { token } = read;
  const expired = token.expiresAt !== undefined && token.expiresAt <= now;
  const refreshAvailable = Boolean(token.refreshToken);
  return {
    ...base,
    clientId: token.binding.clientId,
    state: expired ? "expired" : "valid",
    loggedIn: !expired || refreshAvailable || headless,
    grantedScopes: token.scope ? token.scope.split(" ").filter(Boolean) : null,
    subject: identityOf(token) ?? null,
    expiresAt: token.expiresAt === undefined ? null : new Date(token.expiresAt).toISOString(),
    expiresIn: token.expiresAt === undefined ? null : Math.round((token.expiresAt - now) / 1000),
    refreshAvailable,
    storage: read.location,
  };
}

/** A provider whose tokens could not be read (a keyring that did not answer): why, and the fix. */
function unreadable(provider: ProviderConfig, error: OAuth2Error): ProviderStatus {
  return {
    provider: provider.id,
    state: "unreadable",
    loggedIn: false,
    flow: provider.authFlow,
    issuer: provider.issuer,
    storage: "keyring",
    issues: [`${error.summary} Fix: ${error.fix}`],
  };
}

async function readStatus(
  provider: ProviderConfig,
  read: () => Promise<ReadResult>,
  now: number,
): Promise<ProviderStatus> {
  try {
    return statusOf(provider, await read(), now);
  } catch (err) {
    if (err instanceof OAuth2Error && err.code === "cache_failed") return unreadable(provider, err);
    throw err;
  }
}

function stateCell(ctx: CliContext, s: ProviderStatus): string {
  const { green, yellow, red } = ctx.out.style;
  switch (s.state) {
    case "valid":
      return green(`logged in${s.subject ? ` as ${s.subject}` : ""}`);
    case "expired":
      return s.loggedIn ? yellow("expired, will refresh") : red("expired: log in");
    case "foreign":
      return red("token for another issuer/client: log in");
    case "invalid_config":
      return red("invalid config");
    case "unreadable":
      return red("keyring did not answer");
    default:
      return s.loggedIn ? yellow("no token yet (headless)") : red("not logged in");
  }
}

function expiryCell(s: ProviderStatus, now: number): string {
  if (s.state !== "valid" && s.state !== "expired") return "-";
  return s.expiresAt ? formatExpiry(Date.parse(s.expiresAt), now) : "no expiry given";
}

export const status: Command = {
  name: "status",
  summary: "show every managed provider and its cached token (no network)",
  usage: "status [--json]",
  maxPositionals: 0,
  options: {
    json: { type: "boolean", help: "print an array of objects for scripts (never a token)" },
  },
  notes: `Reads the token cache only; never talks to an IdP. STORED IN says where each provider's tokens
live: the OS keyring or the token file (see storage in docs/configuration.md).`,
  async run(ctx, { values }) {
    const config = await ctx.config();
    failOnConfigProblems(config);
    const engine = ctx.engine();
    const now = ctx.now();
    const rows: ProviderStatus[] = [];
    for (const provider of Object.values(config.providers)) {
      rows.push(await readStatus(provider, () => engine.cached(provider), now));
    }
    const invalid = new Map<string, string[]>();
    for (const issue of config.issues) {
      // "*": the opencode-oauth2 plugin options themselves, not one provider.
      const id = issue.providerId === "*" ? "(plugin options)" : issue.providerId;
      invalid.set(id, [...(invalid.get(id) ?? []), issue.message]);
    }
    for (const [provider, issues] of invalid)
      rows.push({ provider, state: "invalid_config", loggedIn: false, issues });

    if (values.json) {
      ctx.out.json(rows);
      return EXIT.ok;
    }
    if (rows.length === 0) {
      ctx.out.err(
        "No managed providers: add provider.<id>.options.oauth2 to your opencode config (see docs/configuration.md).",
      );
      return EXIT.ok;
    }
    const { bold } = ctx.out.style;
    const table = [
      ["PROVIDER", "FLOW", "STATUS", "EXPIRES", "REFRESH", "STORED IN", "SCOPES", "ISSUER"].map(
        bold,
      ),
    ];
    for (const s of rows) {
      if (s.state === "invalid_config") continue;
      table.push([
        s.provider,
        s.flow ?? "-",
        stateCell(ctx, s),
        expiryCell(s, now),
        s.refreshAvailable ? "yes" : "no",
        s.storage ?? "-",
        (s.grantedScopes ?? s.scopes ?? []).join(" ") || "-",
        s.issuer ?? "-",
      ]);
    }
    for (const line of formatTable(table)) ctx.out.out(line);
    for (const s of rows) {
      if (s.state === "invalid_config" || s.state === "unreadable")
        for (const issue of s.issues ?? []) ctx.out.err(ctx.out.errStyle.red(issue));
    }
    return EXIT.ok;
  },
};
