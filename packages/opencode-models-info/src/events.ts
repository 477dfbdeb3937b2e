import { type CoreEvent, eventsOf, type Logger } from "@vymalo/oauth2-core";

/** The service name the plugin logs under in opencode's log. */
export const SERVICE = "opencode-models-info";

/**
 * Every event the models-info plugin emits, with its level: defined in the core's registry of
 * every event (log-events.ts), documented in docs/log-events.md (a test keeps the two in step).
 * Failure events carry `error_code`, `status`, `detail` and `fix` from {@link ModelsInfoError}.
 */
export const MODELS_INFO_EVENTS = eventsOf("models-info");

export type ModelsInfoEvent = keyof typeof MODELS_INFO_EVENTS;

/** The plugin's logger: the core's events (its token engine logs them) and its own. */
export type ModelsInfoLogger = Logger<CoreEvent | ModelsInfoEvent>;
