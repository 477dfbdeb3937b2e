import {
  type Logger as CoreLogger,
  silentLogger as coreSilentLogger,
  createLogger,
  eventsOf,
  type LogLevel,
} from "@vymalo/oauth2-core";

/**
 * The gateway's log: the core's typed, redacting logger with the gateway's event catalogue,
 * one JSON object per line on stderr, `{ time, level, event, ...fields }`. Callers pass
 * claims-derived fields (sub, client) and reasons — never a token, an Authorization header or a
 * secret; the core drops secret-named fields and redacts token-shaped strings behind them.
 *
 * Event names are `gateway_<what_happened>`, as the plugins' are `oauth2_…` and
 * `models_info_…`: the package, then what happened. They are defined with every other event of
 * the project in the core's registry (log-events.ts); docs/log-events.md documents each one
 * (a test keeps the two in step).
 */
export const GATEWAY_EVENTS = eventsOf("gateway");

export type GatewayEvent = keyof typeof GATEWAY_EVENTS;
export type { LogLevel };

/**
 * `emit` takes only catalogue events: any other name does not compile. The logger
 * {@link createLogger} builds from the catalogue also knows the core's events, and stands in here.
 */
export type Logger = CoreLogger<GatewayEvent>;

/** The bin's logger: JSON lines with a timestamp, on stderr unless `write` is given. */
export function jsonLogger(
  level: LogLevel = "info",
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  return createLogger({
    level,
    events: GATEWAY_EVENTS,
    sink: (record) => write(JSON.stringify({ time: new Date().toISOString(), ...record })),
  });
}

export const silentLogger: Logger = coreSilentLogger;
