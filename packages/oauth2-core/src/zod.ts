/**
 * The zod/mini functions and types the plugins validate with, and the core's number fields. The package's build bundles zod
 * into this package, tree-shaken to what its entries use, so a plugin that imports zod from here
 * adds no copy of its own to opencode's start (see scripts/build-package.mjs). Add a function
 * here before using it in a plugin.
 */

export type { input, output, ZodMiniType } from "zod/mini";
export {
  _default,
  array,
  boolean,
  enum,
  literal,
  minLength,
  nullish,
  number,
  object,
  optional,
  pipe,
  refine,
  string,
  transform,
  union,
  unknown,
} from "zod/mini";
export type { $ZodError as ZodError } from "zod/v4/core";
export { milliseconds, timerMs } from "./config/numbers.js";
