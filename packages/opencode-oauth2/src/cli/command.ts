import type { ParseArgsConfig } from "node:util";
import type { CliContext } from "./context.js";
import type { ExitCode } from "./errors.js";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

/** One sub-command: its own file exports one of these. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** `opencode-oauth2 <usage>` */
  usage: string;
  /** Options besides the global ones, for util.parseArgs. */
  options: OptionSpec;
  /** The option lines and notes shown by `<command> --help`. */
  help: string;
  /** Most positionals the command takes. */
  maxPositionals: number;
  /** One of EXIT; `exec` passes on the exit code of the command it ran. */
  run(ctx: CliContext, args: ParsedArgs): Promise<ExitCode | number>;
}
