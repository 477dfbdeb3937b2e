import { createHash } from "node:crypto";
import { eventsOf, type LogLevel } from "./log-events.js";

export type { LogLevel };

/**
 * The token engine's events (see the registry in log-events.ts). An adapter passes its own
 * catalogue to {@link createLogger}, and the logger's type then takes both sets of names.
 */
export const CORE_EVENTS = eventsOf("core");

export type CoreEvent = keyof typeof CORE_EVENTS;

/** A catalogue of events: each name with the level it is logged at. */
export type EventCatalogue = Readonly<Record<string, LogLevel>>;

/** The event names of a catalogue. */
export type EventOf<C extends EventCatalogue> = keyof C & string;

export interface LogRecord {
  level: LogLevel;
  event: string;
  [field: string]: unknown;
}

export type LogSink = (record: LogRecord) => void;

/**
 * Emits the events named in `E`; any other name does not compile. `emit` is a function-typed
 * property, not a method, so the compiler checks it contravariantly: a logger that knows more
 * events (`Logger<CoreEvent | PluginEvent>`) can be given where one that knows fewer
 * (`Logger<CoreEvent>`) is expected, never the other way round. (A method would be bivariant and
 * let a logger stand in for one whose events it has no level for.)
 */
export interface Logger<E extends string> {
  readonly emit: (event: E, fields?: Record<string, unknown>) => void;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names whose values are secrets by definition; dropped from every record. */
const SECRET_FIELDS = new Set([
  "accesstoken",
  "access_token",
  "refreshtoken",
  "refresh_token",
  "idtoken",
  "id_token",
  "clientsecret",
  "client_secret",
  "code",
  "code_verifier",
  "codeverifier",
  "device_code",
  "devicecode",
  "subject_token",
  "subjecttoken",
  "authorization",
  "password",
]);

/** A JWT or a long opaque credential-looking string. */
const TOKENISH = /^(eyJ[\w-]+\.[\w-]+\.[\w-]*|[A-Za-z0-9_-]{32,})$/;

/**
 * A short, non-reversible fingerprint for correlating a secret across log lines:
 * `sha256:` and the first 8 hex digits. Never the secret itself.
 */
export function fingerprint(secret: string | undefined): string | undefined {
  if (!secret) return undefined;
  return `sha256:${createHash("sha256").update(secret).digest("hex").slice(0, 8)}`;
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return TOKENISH.test(value) ? "[redacted]" : value;
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (SECRET_FIELDS.has(key.toLowerCase())) continue;
    out[key] = scrub(v, depth + 1);
  }
  return out;
}

export interface CreateLoggerOptions<C extends EventCatalogue> {
  sink?: LogSink;
  /** Records below this level are dropped. Default `info`. */
  level?: LogLevel;
  /** The adapter's own event catalogue, next to the core's. */
  events?: C;
}

/**
 * A small typed logger: `emit("oauth2_token_refreshed", { provider })` becomes
 * `{ level: "info", event: "oauth2_token_refreshed", provider }`. Secret-named fields are dropped
 * and token-shaped strings redacted before a record reaches the sink, as a second line of
 * defence behind callers that only ever pass fingerprints.
 *
 * The names it takes are inferred from the catalogues: the core's, plus `options.events`.
 */
export function createLogger<C extends EventCatalogue = Record<never, LogLevel>>(
  options: CreateLoggerOptions<C> = {},
): Logger<NoInfer<CoreEvent | EventOf<C>>> {
  const sink = options.sink ?? (() => {});
  const min = LEVEL_RANK[options.level ?? "info"];
  const catalogue = { ...CORE_EVENTS, ...options.events } as Record<
    CoreEvent | EventOf<C>,
    LogLevel
  >;
  return {
    emit(event, fields = {}) {
      // Only untyped (JavaScript) callers can name an event in no catalogue: log it loudly
      // rather than at a level nobody chose.
      const level: LogLevel = catalogue[event] ?? "error";
      if (LEVEL_RANK[level] < min) return;
      // Built in one pass (the gateway logs a record per request): secret-named fields and
      // undefined values left out, the rest scrubbed.
      const record: Record<string, unknown> = { level, event };
      for (const key of Object.keys(fields)) {
        if (SECRET_FIELDS.has(key.toLowerCase())) continue;
        const value = scrub(fields[key], 1);
        if (value !== undefined) record[key] = value;
      }
      sink(record as LogRecord);
    },
  };
}

/** A sink that writes one JSON line per record to stderr (CLI, scripts). */
export function stderrSink(record: LogRecord): void {
  process.stderr.write(`${JSON.stringify(record)}\n`);
}

/** A logger that drops everything, so it can stand in for a logger of any catalogue. */
export const silentLogger: Logger<string> = { emit() {} };
