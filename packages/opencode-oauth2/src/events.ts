import { type CoreEvent, eventsOf, type Logger } from "@vymalo/oauth2-core";

/** The service name the plugin logs under in opencode's log. */
export const SERVICE = "opencode-oauth2";

/**
 * Log events of the opencode adapter, on top of the core's: defined in the core's registry of
 * every event (log-events.ts), documented in docs/log-events.md.
 */
export const PLUGIN_EVENTS = eventsOf("opencode-oauth2");

export type PluginEvent = keyof typeof PLUGIN_EVENTS;

/** The adapter's logger: the core's events and its own. */
export type PluginLogger = Logger<CoreEvent | PluginEvent>;
