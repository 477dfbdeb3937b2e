import type { Command } from "./command.js";

/**
 * Every sub-command, in the order `--help` lists them. A command's module loads only when that
 * command runs: `token` and `exec` are called per request by other tools, and must not pay for
 * `login` and `doctor`, which pull in the protocol stack (openid-client) at import. A command's
 * summary, options and help stay in its own file, the one definition; the main help loads
 * every command to list them, which costs what it always did.
 */
export interface CommandEntry {
  readonly name: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: "login", load: async () => (await import("./login.js")).login },
  { name: "logout", load: async () => (await import("./logout.js")).logout },
  { name: "status", load: async () => (await import("./status.js")).status },
  { name: "token", load: async () => (await import("./token.js")).token },
  { name: "exec", load: async () => (await import("./exec.js")).exec },
  { name: "doctor", load: async () => (await import("./doctor.js")).doctor },
];

export const findCommand = (name: string | undefined): CommandEntry | undefined =>
  COMMANDS.find((c) => c.name === name);
