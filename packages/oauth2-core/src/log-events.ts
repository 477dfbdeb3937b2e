/**
 * Every structured log event of this project, with its level and the part that emits it: the
 * token engine, the opencode-oauth2 plugin, the models-info plugin and the gateway. The events
 * are public interface (dashboards and alerts key on them), so they are defined once, here, as
 * docs/log-events.md lists them once; each part takes its own with {@link eventsOf}, and its
 * logger's type then accepts those names and no others.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

/** The part of the project that emits an event. */
export type EventSource = "core" | "opencode-oauth2" | "models-info" | "gateway";

export const LOG_EVENTS = {
  // the token engine (@vymalo/oauth2-core), in every process that uses it
  oauth2_config_invalid: ["error", "core"],
  oauth2_token_cache_hit: ["debug", "core"],
  oauth2_token_cache_corrupt: ["warn", "core"],
  oauth2_token_cache_binding_mismatch: ["info", "core"],
  oauth2_token_cache_write_failed: ["error", "core"],
  oauth2_token_cache_permissions_fixed: ["warn", "core"],
  oauth2_keyring_unavailable: ["warn", "core"],
  oauth2_keyring_retried: ["info", "core"],
  oauth2_token_refreshed: ["info", "core"],
  oauth2_token_refresh_failed: ["warn", "core"],
  oauth2_refresh_token_kept: ["warn", "core"],
  oauth2_token_refreshed_by_other_process: ["debug", "core"],
  oauth2_lock_lost: ["warn", "core"],
  oauth2_token_invalidated: ["info", "core"],
  oauth2_headless_token_obtained: ["info", "core"],
  oauth2_headless_token_failed: ["error", "core"],
  oauth2_subject_token_read: ["debug", "core"],
  oauth2_login_started: ["info", "core"],
  oauth2_login_succeeded: ["info", "core"],
  oauth2_login_failed: ["error", "core"],
  oauth2_login_required: ["warn", "core"],
  oauth2_device_code_issued: ["info", "core"],
  oauth2_login_callback_ignored: ["warn", "core"],
  oauth2_browser_open_failed: ["warn", "core"],
  oauth2_discovery_failed: ["error", "core"],
  oauth2_logout: ["info", "core"],
  oauth2_revocation_failed: ["warn", "core"],
  oauth2_proxy_unreachable: ["error", "core"],
  oauth2_proxy_refused: ["error", "core"],
  oauth2_tls_untrusted: ["error", "core"],
  oauth2_tls_client_certificate_required: ["error", "core"],
  oauth2_tls_client_certificate_rejected: ["error", "core"],
  oauth2_tls_files_unreadable: ["error", "core"],
  // the opencode-oauth2 plugin, in opencode's log (service opencode-oauth2)
  oauth2_plugin_loaded: ["info", "opencode-oauth2"],
  oauth2_bearer_propagated: ["info", "opencode-oauth2"],
  oauth2_bearer_propagation_skipped_header_present: ["info", "opencode-oauth2"],
  oauth2_bearer_propagation_skipped_login_required: ["warn", "opencode-oauth2"],
  oauth2_bearer_propagation_skipped_idp_unreachable: ["warn", "opencode-oauth2"],
  oauth2_bearer_propagation_skipped_idp_error: ["warn", "opencode-oauth2"],
  oauth2_bearer_propagation_skipped_timeout: ["warn", "opencode-oauth2"],
  oauth2_bearer_propagation_skipped_error: ["error", "opencode-oauth2"],
  oauth2_request_unauthorized_retrying: ["info", "opencode-oauth2"],
  oauth2_request_token_unavailable: ["warn", "opencode-oauth2"],
  // the models-info plugin, in opencode's log (service opencode-models-info)
  models_info_plugin_loaded: ["info", "models-info"],
  models_info_options_invalid: ["error", "models-info"],
  models_info_url_invalid: ["error", "models-info"],
  models_info_cache_hit: ["debug", "models-info"],
  models_info_fetched: ["info", "models-info"],
  models_info_not_modified: ["info", "models-info"],
  models_info_entry_skipped: ["warn", "models-info"],
  models_info_document_invalid: ["error", "models-info"],
  models_info_unauthorized_retrying: ["info", "models-info"],
  models_info_login_required: ["warn", "models-info"],
  models_info_token_withheld: ["info", "models-info"],
  models_info_fetch_failed_using_stale: ["warn", "models-info"],
  models_info_fetch_failed_no_cache: ["error", "models-info"],
  models_info_cache_written: ["debug", "models-info"],
  models_info_cache_write_failed: ["warn", "models-info"],
  models_info_cache_unreadable: ["warn", "models-info"],
  models_info_model_not_listed: ["debug", "models-info"],
  models_info_applied: ["info", "models-info"],
  models_info_failed: ["error", "models-info"],
  // the gateway, JSON lines on its stderr
  gateway_listening: ["info", "gateway"],
  gateway_tls_reloaded: ["info", "gateway"],
  gateway_tls_reload_failed: ["warn", "gateway"],
  gateway_upstream_route: ["info", "gateway"],
  gateway_request: ["info", "gateway"],
  gateway_request_refused: ["info", "gateway"],
  gateway_log_dropped: ["warn", "gateway"],
  gateway_upstream_stalled: ["warn", "gateway"],
  gateway_auth_rejected: ["info", "gateway"],
  gateway_auth_unavailable: ["warn", "gateway"],
  gateway_certificate_binding_refused: ["info", "gateway"],
  gateway_jwks_refresh_failed: ["warn", "gateway"],
  gateway_outbound_budget_exhausted: ["warn", "gateway"],
  gateway_upstream_timeout: ["warn", "gateway"],
  gateway_upstream_unreachable: ["error", "gateway"],
  gateway_upstream_proxy_failed: ["error", "gateway"],
  gateway_internal_error: ["error", "gateway"],
  gateway_model_refused: ["info", "gateway"],
  gateway_quota_exceeded: ["info", "gateway"],
  gateway_quota_store_unavailable: ["warn", "gateway"],
  gateway_quota_store_recovered: ["info", "gateway"],
  gateway_usage_recorded: ["info", "gateway"],
  gateway_metrics_listening: ["info", "gateway"],
  gateway_shutting_down: ["info", "gateway"],
  gateway_stopped: ["info", "gateway"],
  gateway_shutdown_forced: ["warn", "gateway"],
  gateway_shutdown_failed: ["error", "gateway"],
} as const satisfies Record<string, readonly [LogLevel, EventSource]>;

type Registry = typeof LOG_EVENTS;

/** The names of the events one part emits. */
export type EventOfSource<S extends EventSource> = {
  [K in keyof Registry]: Registry[K][1] extends S ? K : never;
}[keyof Registry];

/** One part's events, each with its level: what {@link createLogger} takes as a catalogue. */
export type SourceCatalogue<S extends EventSource> = {
  readonly [K in EventOfSource<S>]: Registry[K][0];
};

export function eventsOf<S extends EventSource>(source: S): SourceCatalogue<S> {
  const entries = Object.entries(LOG_EVENTS) as [string, readonly [LogLevel, EventSource]][];
  return Object.fromEntries(
    entries.filter(([, [, from]]) => from === source).map(([name, [level]]) => [name, level]),
  ) as SourceCatalogue<S>;
}
