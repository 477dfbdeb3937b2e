// opencode loads every export of a plugin module as a plugin and skips a module with any
// non-function export, so this entry exports the plugin alone. The library API is on
// "@vymalo/opencode-models-info/lib".
export { ModelsInfoPlugin } from "./plugin.js";
