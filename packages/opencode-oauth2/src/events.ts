import type { CoreEvent, Logger, LogLevel } from "@vymalo/oauth2-core";

/** Log events of the opencode adapter, on top of the core's (see docs/log-events.md). */
/** The service name the plugin logs under in opencode's log. */
export const SERVICE = "opencode-oauth2";

export const PLUGIN_EVENTS = {
  oauth2_plugin_loaded: "info",
  oauth2_bearer_propagated: "info",
  oauth2_bearer_propagation_skipped_header_present: "info",
  oauth2_bearer_propagation_skipped_login_required: "warn",
  oauth2_bearer_propagation_skipped_idp_unreachable: "warn",
  oauth2_bearer_propagation_skipped_idp_error: "warn",
  oauth2_bearer_propagation_skipped_timeout: "warn",
  oauth2_bearer_propagation_skipped_error: "error",
  oauth2_request_unauthorized_retrying: "info",
  oauth2_request_token_unavailable: "warn",
} as const satisfies Record<string, LogLevel>;

export type PluginEvent = keyof typeof PLUGIN_EVENTS;

/** The adapter's logger: the core's events and its own. */
export type PluginLogger = Logger<CoreEvent | PluginEvent>;
