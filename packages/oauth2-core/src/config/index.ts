export * from "./collect.js";
export * from "./local-sources.js";
export * from "./messages.js";
export * from "./numbers.js";
export * from "./publishable.js";
export * from "./remote-fields.js";
export * from "./schema.js";
export * from "./well-known.js";
