import { readFile } from "node:fs/promises";
import type { ZodMiniType } from "@vymalo/oauth2-core/zod";
import { describe, expect, it } from "vitest";
import { ENV_OVERRIDES, GatewayConfigSchema } from "../src/index.js";

/** docs/gateway.md documents every config field and every env override, and no stale field. */

const DOC = new URL("../../../docs/gateway.md", import.meta.url);

type Def = { type: string; shape?: Record<string, ZodMiniType>; element?: ZodMiniType } & Record<
  string,
  unknown
>;
const defOf = (schema: ZodMiniType) => (schema as unknown as { def: Def }).def;

/** Unwraps optional/default/pipe down to the schema that has a shape or an element. */
function core(schema: ZodMiniType): Def {
  let def = defOf(schema);
  while (def.innerType || def.in) def = defOf((def.innerType ?? def.in) as ZodMiniType);
  return def;
}

/** Dotted paths of the leaf fields; array elements as `name[]`. */
function fieldPaths(schema: ZodMiniType, prefix = ""): string[] {
  const def = core(schema);
  if (def.type === "array" && def.element) return fieldPaths(def.element, `${prefix}[]`);
  if (def.type !== "object" || !def.shape) return [];
  return Object.entries(def.shape).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const nested = fieldPaths(child, path);
    return nested.length > 0 ? nested : [path];
  });
}

describe("docs/gateway.md", () => {
  it("documents every config field", async () => {
    const text = await readFile(DOC, "utf8");
    const paths = fieldPaths(GatewayConfigSchema).filter(
      (p) => !/^models\[\]\.(pricing|modalities)\./.test(p),
    );
    expect(paths).toContain("upstream.subjectHeader");
    expect(paths).toContain("models[].context_length");
    const missing = paths.filter((p) => !text.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });

  it("documents every environment override", async () => {
    const text = await readFile(DOC, "utf8");
    const missing = ENV_OVERRIDES.filter(({ env }) => !text.includes(`\`${env}\``));
    expect(missing).toEqual([]);
  });
});
