#!/usr/bin/env node
import { parseArgs } from "node:util";
import { TransportError } from "@vymalo/oauth2-core";
import { loadConfig } from "./config-load.js";
import { GatewayConfigError } from "./config-parse.js";
import { jsonLogger, type LogLevel } from "./log.js";
import { gatewayVersion } from "./manifest.js";
import { createGateway } from "./server.js";

/**
 * `opencode-gateway --config gateway.json`: loads the config (file, then OPENCODE_GATEWAY_*
 * env overrides), starts the server and shuts down gracefully on SIGTERM/SIGINT (stop
 * accepting, let open streams finish for `listen.shutdownGraceMs`, exit). A second signal exits
 * at once. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config.
 */

const USAGE = `usage: opencode-gateway [--config FILE] [--check] [--print-manifest]

  --config FILE       JSON config (default: $OPENCODE_GATEWAY_CONFIG)
  --check             validate the config and exit
  --print-manifest    print the /.well-known/opencode document and exit
  --version, --help

Environment overrides: OPENCODE_GATEWAY_PUBLIC_URL, _ISSUER, _JWKS_URI, _AUDIENCES, _CLIENTS,
_UPSTREAM_URL, _UPSTREAM_API_KEY, _INTROSPECTION_CLIENT_SECRET, _HOST, _PORT (or PORT),
_TRUST_PROXY, _QUOTA_REDIS;
OPENCODE_GATEWAY_LOG_LEVEL=debug|info|warn|error. See docs/gateway.md.`;

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`${gatewayVersion()}\n`);
    return 0;
  }
  const file = args.config ?? env.OPENCODE_GATEWAY_CONFIG;
  if (!file) {
    process.stderr.write(
      `no config: pass --config FILE or set OPENCODE_GATEWAY_CONFIG\n${USAGE}\n`,
    );
    return 2;
  }
  let config: Awaited<ReturnType<typeof loadConfig>>;
  try {
    config = await loadConfig(file, env);
  } catch (error) {
    if (!(error instanceof GatewayConfigError)) throw error;
    process.stderr.write(`${error.message}\nSee docs/gateway.md for every field.\n`);
    return 2;
  }
  const requested = env.OPENCODE_GATEWAY_LOG_LEVEL as LogLevel | undefined;
  const logger = jsonLogger(requested && LEVELS.includes(requested) ? requested : "info");
  const gateway = createGateway(config, { logger });
  if (args["print-manifest"]) {
    process.stdout.write(`${JSON.stringify(gateway.manifest, null, 2)}\n`);
    return 0;
  }
  try {
    // --check reads what the start reads (TLS files, the model server's route): a wrong one is
    // a config error either way.
    if (args.check) await gateway.prepare();
    else await gateway.start();
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  if (args.check) {
    process.stdout.write(`config ok: ${config.models.length} model(s), issuer ${config.issuer}\n`);
    return 0;
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.emit("gateway_shutdown_forced", { signal });
      process.exit(1);
    }
    stopping = true;
    logger.emit("gateway_shutting_down", { signal, graceMs: config.listen.shutdownGraceMs });
    gateway.close().then(
      () => {
        logger.emit("gateway_stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.emit("gateway_shutdown_failed", { detail: String(error) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // With TLS, SIGHUP reads the certificate files again (as nginx does); without, it stops as before.
  if (config.listen.tls) process.on("SIGHUP", () => void gateway.reloadTls());
  return undefined;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      config: { type: "string", short: "c" },
      check: { type: "boolean" },
      "print-manifest": { type: "boolean" },
      version: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

run(process.argv.slice(2), process.env).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`opencode-gateway: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
