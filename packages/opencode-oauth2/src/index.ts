// opencode loads every export of a plugin module as a plugin and skips a module with any
// non-function export, so this entry exports the plugin alone. The library API is on
// "@vymalo/opencode-oauth2/lib".
export { OAuth2Plugin } from "./plugin.js";
