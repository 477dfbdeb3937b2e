import type { Command } from "./command.js";
import { prepareFormat, TOKEN_FORMATS } from "./credential/formats.js";
import { obtainToken } from "./credential/obtain.js";
import { DEFAULT_ENV_NAME } from "./credential/shell-env.js";
import { EXIT, UsageError } from "./errors.js";

export const token: Command = {
  name: "token",
  summary: "print a valid access token to stdout (for scripts)",
  usage: `token <provider> [--format ${TOKEN_FORMATS.join("|")}]`,
  maxPositionals: 2,
  options: {
    format: {
      type: "string",
      short: "f",
      value: "FORMAT",
      help: `how to print it (default raw):
  raw              the token alone
  json             {"access_token", "token_type", "expires_at"} (epoch s)
  header           Authorization: Bearer <token>
  env              export ${DEFAULT_ENV_NAME}='<token>' (for eval)
  exec-credential  a Kubernetes ExecCredential (kubectl's users[].user.exec),
                   in the apiVersion KUBERNETES_EXEC_INFO asks for
  git-credential   git's credential-helper protocol: git passes get, store
                   or erase; get is answered with username and password`,
    },
    env: {
      type: "string",
      value: "NAME",
      help: `the variable --format env exports (default ${DEFAULT_ENV_NAME})`,
    },
    username: {
      type: "string",
      value: "NAME",
      help: "the user name --format git-credential answers (default oauth2)",
    },
  },
  intro: `Prints the provider's access token, and nothing else, to stdout:
  curl -H "Authorization: Bearer $(opencode-oauth2 token corp)" https://llm.example.com/v1/models`,
  notes: `The cached token is used while it is fresh (no network call), refreshed when it is about to
expire, or minted by the provider's headless flow (client_credentials, token_exchange). It never
prompts: when only a login can help, it prints why on stderr, nothing on stdout, and exits with
code 2. Examples for curl, kubectl, git, Claude Code and Codex CLI: docs/cli.md.`,
  async run(ctx, { positionals, values }) {
    const [id, ...extra] = positionals;
    if (!id) throw new UsageError("name the provider whose token to print");
    const print = await prepareFormat(values.format, {
      options: { env: values.env, username: values.username },
      extra,
      env: ctx.env,
      stdin: process.stdin,
    });
    if (!print) return EXIT.ok;
    const issued = await obtainToken(ctx, id);
    if (!issued) return EXIT.loginRequired;
    ctx.out.out(print(issued));
    return EXIT.ok;
  },
};
