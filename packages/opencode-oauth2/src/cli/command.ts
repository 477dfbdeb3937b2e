import type { ParseArgsConfig } from "node:util";
import type { CliContext } from "./context.js";
import type { ExitCode } from "./errors.js";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** One option: how util.parseArgs reads it and how `--help` shows it. */
export interface OptionDef {
  type: "boolean" | "string";
  short?: string;
  /** The value's placeholder in help (`FILE`, `browser|device`); string options only. */
  value?: string;
  /** What it does; several lines are shown indented under the first. */
  help: string;
}

export type OptionDefs = Record<string, OptionDef>;

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
  /** Options besides the global ones: parsed and listed in `--help` from this one definition. */
  options: OptionDefs;
  /** What `--help` shows before the option list (an example), when anything. */
  intro?: string;
  /** What `--help` shows after the option list. */
  notes: string;
  /** Most positionals the command takes. */
  maxPositionals: number;
  /** One of EXIT; `exec` passes on the exit code of the command it ran. */
  run(ctx: CliContext, args: ParsedArgs): Promise<ExitCode | number>;
}
