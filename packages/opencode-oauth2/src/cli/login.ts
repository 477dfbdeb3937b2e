import {
  type InteractiveFlow,
  isOAuth2Error,
  type ProviderConfig,
  type StoredToken,
} from "@vymalo/oauth2-core";
import { PLACEHOLDER_API_KEY } from "../constants.js";
import type { Command } from "./command.js";
import { type CliContext, requireProvider } from "./context.js";
import { CliFailure, EXIT, UsageError } from "./errors.js";
import { formatClock, formatDuration, formatExpiry } from "./human-time.js";
import { identityOf } from "./identity.js";
import { type Progress, startProgress } from "./progress.js";
import { providerFromWellKnown } from "./well-known.js";

const FLOWS: Record<string, InteractiveFlow> = {
  browser: "authorization_code",
  authorization_code: "authorization_code",
  device: "device_code",
  device_code: "device_code",
};

export function parseFlow(value: string | boolean | undefined): InteractiveFlow | undefined {
  if (typeof value !== "string") return undefined;
  const flow = FLOWS[value];
  if (!flow) throw new UsageError(`--flow must be "browser" or "device", not "${value}"`);
  return flow;
}

function reportSuccess(ctx: CliContext, provider: ProviderConfig, token: StoredToken): void {
  const { style } = ctx.out;
  const now = ctx.now();
  const who = identityOf(token);
  ctx.out.out(
    `${style.green("✓")} Logged in to ${style.bold(provider.id)}${who ? ` as ${style.bold(who)}` : ""}.`,
  );
  if (token.expiresAt !== undefined) {
    ctx.out.out(
      `  Access token expires ${formatExpiry(token.expiresAt, now)} (${formatClock(token.expiresAt, now)}).`,
    );
  }
  ctx.out.out(
    token.refreshToken
      ? "  A refresh token is stored: the token is renewed automatically."
      : `  No refresh token: log in again when it expires (opencode-oauth2 login ${provider.id}).`,
  );
}

/** A browser or device login, with the URL/user code on stderr and progress while it waits. */
async function interactiveLogin(
  ctx: CliContext,
  provider: ProviderConfig,
  flow: InteractiveFlow,
  openBrowser: boolean,
): Promise<StoredToken> {
  const { err, errStyle } = ctx.out;
  const controller = new AbortController();
  const onInterrupt = () => {
    controller.abort();
    // A request still in flight (discovery) may not see the abort: do not outlive it by much.
    setTimeout(() => process.exit(EXIT.interrupted), 2000).unref();
  };
  process.once("SIGINT", onInterrupt);
  let progress: Progress | undefined;
  try {
    return await ctx.engine().login(provider, {
      flow,
      openBrowser,
      signal: controller.signal,
      prompter: {
        onBrowserLogin: ({ url, browserOpened }) => {
          err(`Log in to ${errStyle.bold(provider.issuer)} for provider "${provider.id}".`);
          err(
            browserOpened
              ? "Your browser was opened; if it did not show the login page, open this URL:"
              : "Open this URL in a browser:",
          );
          err(`  ${errStyle.cyan(url)}`);
          progress = startProgress(
            ctx.out,
            () => "Waiting for the browser login… (Ctrl-C to cancel)",
          );
        },
        onDeviceCode: ({ verificationUri, verificationUriComplete, userCode, expiresAt }) => {
          err(`To log in to ${errStyle.bold(provider.issuer)} for provider "${provider.id}":`);
          err(`  open   ${errStyle.cyan(verificationUri)}`);
          err(`  enter  ${errStyle.bold(userCode)}`);
          if (verificationUriComplete) {
            err(`  (or open ${errStyle.cyan(verificationUriComplete)} with the code filled in)`);
          }
          progress = startProgress(
            ctx.out,
            () =>
              `Waiting for approval of code ${userCode}… (expires in ${formatDuration(Math.max(0, expiresAt - ctx.now()))}; Ctrl-C to cancel)`,
          );
        },
      },
    });
  } catch (error) {
    if (controller.signal.aborted) throw new CliFailure("Login cancelled.", EXIT.interrupted);
    throw error;
  } finally {
    progress?.stop();
    process.off("SIGINT", onInterrupt);
  }
}

export const login: Command = {
  name: "login",
  summary: "log in to a provider (browser or device code) and cache its tokens",
  usage: "login <provider> [--flow browser|device] [--no-browser] [--well-known URL [--print-key]]",
  maxPositionals: 1,
  options: {
    flow: {
      type: "string",
      value: "browser|device",
      help: `browser: authorization code + PKCE on a loopback port;
device: a code to enter on another device (RFC 8628).
Default: the provider's authFlow (browser for headless providers).`,
    },
    "no-browser": {
      type: "boolean",
      help: `print the login URL without opening a browser.
The browser is $BROWSER when set, else the system's.`,
    },
    "well-known": {
      type: "string",
      value: "URL",
      help: `take the provider's settings from URL/.well-known/opencode
instead of local config files.`,
    },
    "print-key": {
      type: "boolean",
      help: `print only opencode's placeholder key on stdout (everything
else goes to stderr). This is the manifest's auth.command:
opencode stores the placeholder; the plugin sends real tokens.`,
    },
  },
  notes: `The URL, the user code and progress go to stderr; the result (who you are, when the token
expires) to stdout. A provider whose authFlow is client_credentials or token_exchange logs in
without a user: login fetches its token now.`,
  async run(ctx, { positionals, values }) {
    const id = positionals[0];
    if (!id) throw new UsageError("name the provider to log in to");
    const wellKnown = values["well-known"];
    const printKey = values["print-key"] === true;
    if (printKey && typeof wellKnown !== "string") {
      throw new UsageError(
        "--print-key goes with --well-known (it is the manifest's auth.command)",
      );
    }
    const provider =
      typeof wellKnown === "string"
        ? await providerFromWellKnown(wellKnown, id)
        : await requireProvider(ctx, id);
    // With --print-key, stdout carries the key alone: every message goes to stderr.
    if (printKey) {
      ctx.out.out = ctx.out.err;
      ctx.out.style = ctx.out.errStyle;
    }
    const finish = () => {
      if (printKey) process.stdout.write(`${PLACEHOLDER_API_KEY}\n`);
      return EXIT.ok;
    };
    const flow = parseFlow(values.flow) ?? provider.loginFlow;
    if (!flow) {
      const result = await ctx.engine().ensureAccessToken(provider);
      if (result.status !== "ok") throw new CliFailure(result.message, EXIT.loginRequired);
      const expiry =
        result.expiresAt === undefined
          ? ""
          : `; it expires ${formatExpiry(result.expiresAt, ctx.now())}`;
      ctx.out.out(
        `${ctx.out.style.green("✓")} ${provider.id} needs no user (${provider.authFlow}): got a token from ${provider.issuer}${expiry}.`,
      );
      return finish();
    }
    try {
      const token = await interactiveLogin(ctx, provider, flow, values["no-browser"] !== true);
      reportSuccess(ctx, provider, token);
      return finish();
    } catch (error) {
      if (isOAuth2Error(error)) throw new CliFailure(`Login failed: ${error.message}`);
      throw error;
    }
  },
};
