import type { CoreEvent, Logger, LogLevel } from "@vymalo/oauth2-core";

/**
 * Every event the models-info plugin emits, with its level. docs/models-info.md documents each
 * one (a test keeps the two in step). Failure events carry `error_code`, `status`, `detail` and
 * `fix` from {@link ModelsInfoError}.
 */
/** The service name the plugin logs under in opencode's log. */
export const SERVICE = "opencode-models-info";

export const MODELS_INFO_EVENTS = {
  models_info_plugin_loaded: "info",
  models_info_options_invalid: "error",
  models_info_url_invalid: "error",
  models_info_cache_hit: "debug",
  models_info_fetched: "info",
  models_info_not_modified: "info",
  models_info_entry_skipped: "warn",
  models_info_document_invalid: "error",
  models_info_unauthorized_retrying: "info",
  models_info_login_required: "warn",
  models_info_token_withheld: "info",
  models_info_fetch_failed_using_stale: "warn",
  models_info_fetch_failed_no_cache: "error",
  models_info_cache_written: "debug",
  models_info_cache_write_failed: "warn",
  models_info_cache_unreadable: "warn",
  models_info_model_not_listed: "debug",
  models_info_applied: "info",
  models_info_failed: "error",
} as const satisfies Record<string, LogLevel>;

export type ModelsInfoEvent = keyof typeof MODELS_INFO_EVENTS;

/** The plugin's logger: the core's events (its token engine logs them) and its own. */
export type ModelsInfoLogger = Logger<CoreEvent | ModelsInfoEvent>;
