import { parseArgs } from "node:util";
import { isOAuth2Error } from "@vymalo/oauth2-core";
import ownPackage from "@vymalo/opencode-oauth2/package.json" with { type: "json" };
import type { Command, OptionDefs, ParsedArgs } from "./command.js";
import { COMMANDS, findCommand } from "./commands.js";
import { createContext } from "./context.js";
import { CliFailure, EXIT, EXIT_CODES_HELP, type ExitCode, UsageError } from "./errors.js";
import { optionHelp, parseArgsOptions } from "./option-help.js";
import { createOutput, type Output } from "./output.js";

const GLOBAL_OPTIONS: OptionDefs = {
  config: {
    type: "string",
    short: "c",
    value: "FILE",
    help: "also read this opencode config file (highest precedence)",
  },
  verbose: {
    type: "boolean",
    short: "v",
    help: "write the engine's log records to stderr (JSON lines, never tokens)",
  },
  help: { type: "boolean", short: "h", help: "show help" },
};

/** Only the main help lists it: no command takes it. */
const VERSION_OPTION: OptionDefs = {
  version: { type: "boolean", help: "print the version" },
};

const GLOBAL_HELP = `Global options:\n${optionHelp(GLOBAL_OPTIONS)}`;

/** Inlined by the build (scripts/build-package.mjs), so no file is read at run time. */
const version = (): string => ownPackage.version;

async function mainHelp(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map((c) => c.load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n");
  return `opencode-oauth2 — log in to OAuth2/OIDC-protected LLM providers of opencode from a terminal

Usage: opencode-oauth2 <command> [options]

Commands:
${list}

Global options:
${optionHelp({ ...GLOBAL_OPTIONS, ...VERSION_OPTION })}

Config: the global opencode config ($XDG_CONFIG_HOME/opencode or ~/.config/opencode),
$OPENCODE_CONFIG, the project's opencode.json[c] (git root down to here) and --config FILE.
Run \`opencode-oauth2 <command> --help\` for a command's options. Docs: docs/cli.md.

${EXIT_CODES_HELP}`;
}

function commandHelp(command: Command): string {
  const options = Object.keys(command.options).length
    ? `Options:\n${optionHelp(command.options)}\n\n`
    : "";
  return `Usage: opencode-oauth2 ${command.usage}

${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.

${command.intro ? `${command.intro}\n\n` : ""}${options}${command.notes}

${GLOBAL_HELP}

${EXIT_CODES_HELP}`;
}

/** The index of the command word: the first argument that is neither an option nor its value. */
function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === "--config" || arg === "-c") i += 1;
    else if (arg === "--") return i + 1 < argv.length ? i + 1 : -1;
    else if (!arg.startsWith("-")) return i;
  }
  return -1;
}

function parse(command: Command, args: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: parseArgsOptions({ ...GLOBAL_OPTIONS, ...VERSION_OPTION, ...command.options }),
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > command.maxPositionals) {
      throw new UsageError(`unexpected argument "${positionals[command.maxPositionals]}"`);
    }
    return { values: values as ParsedArgs["values"], positionals };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
}

function report(
  out: Output,
  error: unknown,
  command: Command | undefined,
  verbose: boolean,
): ExitCode {
  const { red } = out.errStyle;
  if (error instanceof UsageError) {
    out.err(`${red("error:")} ${error.message}`);
    out.err(`Usage: opencode-oauth2 ${command?.usage ?? "<command> [options]"}`);
    out.err(`Run \`opencode-oauth2 ${command ? `${command.name} ` : ""}--help\` for more.`);
    return EXIT.usage;
  }
  if (error instanceof CliFailure) {
    out.err(`${red("error:")} ${error.message}`);
    return error.exitCode;
  }
  if (isOAuth2Error(error)) {
    out.err(`${red("error:")} ${error.message}`);
    return error.code === "login_required" ? EXIT.loginRequired : EXIT.error;
  }
  const detail =
    error instanceof Error
      ? verbose
        ? (error.stack ?? error.message)
        : error.message
      : String(error);
  out.err(`${red("error:")} unexpected failure: ${detail}`);
  out.err("Rerun with --verbose for details, and check the setup with `opencode-oauth2 doctor`.");
  return EXIT.error;
}

/**
 * Runs one command line and returns its exit code (one of EXIT, or for `exec` the exit code of
 * the command it ran). Never throws.
 */
export async function runCli(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; out?: Output } = {},
): Promise<number> {
  const env = options.env ?? process.env;
  const out = options.out ?? createOutput(process, env);
  const index = commandIndex(argv);
  const name = index >= 0 ? argv[index] : undefined;
  const entry = findCommand(name);
  let command: Command | undefined;
  const rest = index >= 0 ? [...argv.slice(0, index), ...argv.slice(index + 1)] : argv;
  let verbose = rest.includes("--verbose") || rest.includes("-v");
  try {
    if (!entry) {
      if (
        name === "help" ||
        (name === undefined && (rest.includes("--help") || rest.includes("-h")))
      ) {
        out.out(await mainHelp());
        return EXIT.ok;
      }
      if (name === undefined && rest.includes("--version")) {
        out.out(version());
        return EXIT.ok;
      }
      if (name === undefined) {
        out.err(await mainHelp());
        return EXIT.usage;
      }
      throw new UsageError(
        `unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(", ")})`,
      );
    }
    command = await entry.load();
    const args = parse(command, rest);
    if (args.values.help) {
      out.out(commandHelp(command));
      return EXIT.ok;
    }
    verbose = args.values.verbose === true;
    const ctx = createContext({
      out,
      env,
      cwd: options.cwd ?? process.cwd(),
      verbose,
      configFile: typeof args.values.config === "string" ? args.values.config : undefined,
    });
    return await command.run(ctx, args);
  } catch (error) {
    return report(out, error, command, verbose);
  }
}
