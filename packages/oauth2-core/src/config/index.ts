export * from "./collect.js";
export * from "./schema.js";
export * from "./well-known.js";
