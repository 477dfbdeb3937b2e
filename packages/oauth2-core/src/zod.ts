/**
 * The zod/mini functions and types the plugins and the gateway validate with, and the core's
 * number fields. The package's build bundles zod into this package, tree-shaken to what its
 * entries use, so a plugin that imports zod from here adds no copy of its own to opencode's
 * start (see scripts/build-package.mjs), and the gateway's schemas and the core's, which its
 * config composes, run on one zod. Add a function here before using it in a dependent package.
 */

export type { input, output, ZodMiniType } from "zod/mini";
export {
  _default,
  array,
  boolean,
  enum,
  gte,
  int,
  literal,
  lte,
  minLength,
  NEVER,
  nullish,
  number,
  object,
  optional,
  pipe,
  positive,
  record,
  refine,
  regex,
  strictObject,
  string,
  superRefine,
  transform,
  union,
  unknown,
} from "zod/mini";
export type { $RefinementCtx as RefinementCtx, $ZodError as ZodError } from "zod/v4/core";
export { milliseconds, timerMs } from "./config/numbers.js";
