import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Command } from "./command.js";
import { obtainToken } from "./credential/obtain.js";
import { DEFAULT_ENV_NAME, envName } from "./credential/shell-env.js";
import { EXIT, UsageError } from "./errors.js";

/** Signals a terminal sends the whole foreground process group: the command gets them itself. */
const GROUP_SIGNALS = ["SIGINT", "SIGQUIT"] as const;
/** Signals sent to this process alone (a supervisor, a closed terminal): passed on. */
const FORWARDED_SIGNALS = ["SIGTERM", "SIGHUP"] as const;

/** What a shell reports: the exit code, or 128 + the number of the signal that ended it. */
export function shellExitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (constants.signals[signal] ?? 0);
  return code ?? EXIT.error;
}

/**
 * Runs `command` with stdio inherited and `env`, and resolves with its shell exit code. While
 * it runs, this process ignores the terminal's signals (the command decides what Ctrl-C means)
 * and passes SIGTERM and SIGHUP on, so `exec` never leaves the command behind.
 */
function runChild(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "inherit", env });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    const ignore = () => {};
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    for (const signal of GROUP_SIGNALS) process.on(signal, ignore);
    const done = (code: number) => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      for (const signal of GROUP_SIGNALS) process.off(signal, ignore);
      resolve(code);
    };
    child.on("error", (error: NodeJS.ErrnoException) => {
      // As a shell says it: 127 not found, 126 found but not runnable.
      process.stderr.write(`opencode-oauth2: cannot run "${command}": ${error.message}\n`);
      done(error.code === "ENOENT" ? 127 : 126);
    });
    child.on("exit", (code, signal) => done(shellExitCode(code, signal)));
  });
}

export const exec: Command = {
  name: "exec",
  summary: "run a command with a valid access token in an environment variable",
  usage: "exec <provider> [--env NAME] -- <command> [args…]",
  maxPositionals: Number.POSITIVE_INFINITY,
  options: {
    env: {
      type: "string",
      value: "NAME",
      help: `the variable that holds the token (default ${DEFAULT_ENV_NAME})`,
    },
  },
  intro: `Runs the command (no shell) with the provider's access token in an environment variable,
for tools that read an API key once at start:
  opencode-oauth2 exec corp -- aider --openai-api-base https://llm.example.com/v1`,
  notes: `The command inherits stdin, stdout, stderr and the environment, and exec exits with its exit
code (128 + n when signal n ended it, 127 when it was not found). Ctrl-C reaches the command
directly; SIGTERM and SIGHUP are passed on. The token is fetched once, as by \`token\`: when only
a login can help, the command does not run and exec exits with code 2.`,
  async run(ctx, { positionals, values }) {
    const [id, command, ...args] = positionals;
    if (!id) throw new UsageError("name the provider whose token the command gets");
    if (!command) throw new UsageError("name the command to run after --");
    const name = envName(values.env);
    const issued = await obtainToken(ctx, id);
    if (!issued) return EXIT.loginRequired;
    return runChild(command, args, { ...ctx.env, [name]: issued.accessToken });
  },
};
