// What the core knows of opencode: where its config puts a provider's oauth2 settings, the local
// config files it reads, what a `.well-known/opencode` manifest may publish, its logger and the
// words for logging in. Everything outside this folder knows nothing of opencode.
export * from "./collect.js";
export * from "./local-sources.js";
export * from "./log.js";
export * from "./login-hint.js";
export * from "./publishable.js";
export * from "./remote-fields.js";
export * from "./well-known.js";
