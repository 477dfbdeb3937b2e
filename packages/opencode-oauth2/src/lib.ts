// "@vymalo/opencode-oauth2/lib": the plugin's parts, for embedding and testing it. The token
// engine, the config schema and the logger are @vymalo/oauth2-core's, imported from there.
export { authMethods, BROWSER_METHOD_LABEL, DEVICE_METHOD_LABEL } from "./auth-methods.js";
export { bearerFetch } from "./bearer-fetch.js";
export { PLACEHOLDER_API_KEY } from "./constants.js";
export { PLUGIN_EVENTS, type PluginEvent, type PluginLogger, SERVICE } from "./events.js";
export { createOAuth2Plugin, OAuth2Plugin, type OAuth2PluginDeps } from "./plugin.js";
export { type PropagationOutcome, propagateBearers } from "./propagate.js";
