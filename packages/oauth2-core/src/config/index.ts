export * from "./collect.js";
export * from "./schema.js";
