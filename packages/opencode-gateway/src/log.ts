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

/**
 * Lines to stderr, written together: at most {@link FLUSH_AFTER_MS} after the first of them, or
 * as soon as {@link FLUSH_AT_CHARS} are pending. The access log is one line per request, and
 * stderr on a pipe or a file is written at once while its reader keeps up: one write system call
 * (and one wake-up of whatever reads the pipe) then carries hundreds of records instead of the
 * few of one turn of the event loop; nginx's buffered `access_log` makes the same trade. What is
 * pending is written at exit, so a stop (a signal, process.exit, an uncaught error) loses nothing.
 *
 * When the reader stalls (a log collector that hangs, a full disk behind `| tee`), what it has
 * not taken waits in this process's memory. Past {@link MAX_BACKLOG_BYTES} further lines are
 * dropped rather than kept without bound, and once the reader has caught up a
 * `gateway_log_dropped` record says how many were lost.
 */
const FLUSH_AFTER_MS = 50;
const FLUSH_AT_CHARS = 64 * 1024;
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;
let pendingLines = "";
let flushTimer: NodeJS.Timeout | undefined;
let exitHooked = false;
let droppedLines = 0;
/** The logger that reports dropped lines: the last {@link jsonLogger} writing to stderr. */
let reporter: Logger | undefined;

function flushStderr(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  if (!pendingLines) return;
  const text = pendingLines;
  pendingLines = "";
  if (process.stderr.writableLength < MAX_BACKLOG_BYTES) {
    process.stderr.write(text);
    return;
  }
  // Counted, and reported when the reader has taken the backlog ('drain': nothing waits).
  if (droppedLines === 0) process.stderr.once("drain", reportDropped);
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) droppedLines++;
}

function reportDropped(): void {
  const lines = droppedLines;
  droppedLines = 0;
  reporter?.emit("gateway_log_dropped", { lines, maxBacklogBytes: MAX_BACKLOG_BYTES });
}

/** One buffer for the process, however many gateways it runs, with one exit hook. */
function batchedStderr(line: string): void {
  if (!pendingLines) {
    if (!exitHooked) process.once("exit", flushAtExit);
    exitHooked = true;
    // Unref'd: a gateway that is done does not wait for it (the exit hook writes what is left).
    flushTimer = setTimeout(flushStderr, FLUSH_AFTER_MS).unref();
  }
  pendingLines += `${line}\n`;
  if (pendingLines.length >= FLUSH_AT_CHARS) flushStderr();
}

/** The last lines are written whatever waits before them: there is no later. */
function flushAtExit(): void {
  if (droppedLines > 0) reportDropped();
  clearTimeout(flushTimer);
  if (pendingLines) process.stderr.write(pendingLines);
  pendingLines = "";
}

/**
 * The ISO time of now, made once per millisecond: under load many records share one, and
 * formatting a Date is a good part of a record's cost.
 */
let stampedAt = Number.NaN;
let stamp = "";
function isoNow(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = new Date(now).toISOString();
  }
  return stamp;
}

/** The bin's logger: JSON lines with a timestamp, on stderr unless `write` is given. */
export function jsonLogger(
  level: LogLevel = "info",
  write: (line: string) => void = batchedStderr,
): Logger {
  const logger: Logger = createLogger({
    level,
    events: GATEWAY_EVENTS,
    // `time` first, without copying the record: its JSON always opens with `{"level":`.
    sink: (record) => write(`{"time":"${isoNow()}",${JSON.stringify(record).slice(1)}`),
  });
  if (write === batchedStderr) reporter = logger;
  return logger;
}

export const silentLogger: Logger = coreSilentLogger;
