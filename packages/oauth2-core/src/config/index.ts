export * from "./credentials.js";
export * from "./field-help.js";
export * from "./json.js";
export * from "./messages.js";
export * from "./numbers.js";
export * from "./parse.js";
export * from "./rules.js";
export * from "./schema.js";
