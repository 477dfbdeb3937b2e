import type { LogLevel, LogRecord, LogSink } from "../log.js";

/** The one logging call of a host application's client, e.g. opencode's `client.app.log`. */
export interface AppLogClient {
  app: {
    log(request: {
      body: { service: string; level: LogLevel; message: string; extra?: Record<string, unknown> };
    }): unknown;
  };
}

/**
 * A sink that hands records to the host's logger (`client.app.log`; in opencode they land in its
 * log file and in `--print-logs`). Fire-and-forget, so logging never delays a hook; never
 * stdout, which would corrupt the host's output. The record's event becomes the message.
 */
export function appLogSink(client: AppLogClient, service: string): LogSink {
  return (record: LogRecord) => {
    const { level, event, ...extra } = record;
    try {
      const pending = client.app.log({ body: { service, level, message: event, extra } });
      Promise.resolve(pending).catch(() => {});
    } catch {
      // The host's logger is unavailable (shutting down): drop the record.
    }
  };
}

const LEVELS = new Set<string>(["debug", "info", "warn", "error"]);

/**
 * The level the plugins log at inside opencode: the plugin option `logLevel`, else
 * `$OPENCODE_OAUTH2_LOG_LEVEL`, else `warn`. The default keeps a healthy start silent: opencode
 * pays ~0.6 s for the first record a plugin hands its logger during start (see
 * docs/performance.md), so only what needs attention is sent unless asked for.
 */
export function pluginLogLevel(option: unknown, env: NodeJS.ProcessEnv = process.env): LogLevel {
  for (const value of [option, env.OPENCODE_OAUTH2_LOG_LEVEL]) {
    if (typeof value === "string" && LEVELS.has(value.toLowerCase()))
      return value.toLowerCase() as LogLevel;
  }
  return "warn";
}

/**
 * Log records to opencode's own logger (`client.app.log`, the plugin input's `client`), under a
 * plugin's service name. The client is taken as it comes: opencode's SDK types its `app.log`
 * more narrowly than {@link AppLogClient}, and the core does not depend on that SDK.
 */
export function opencodeSink(client: unknown, service: string): LogSink {
  return appLogSink(client as AppLogClient, service);
}
