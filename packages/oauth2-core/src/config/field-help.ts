import * as z from "zod/mini";

/**
 * Help registered on a config schema's field (zod's global registry, which zod keeps on
 * globalThis, so the gateway's classic-zod `.meta()` and the core's zod/mini schemas share it):
 * printed with the field's validation error, read by the docs and the CLI.
 */
export type FieldHelp = {
  /** What the field is, shown when it is wrong. */
  description: string;
  /** A valid example value. */
  example?: string;
};

/** One invalid config field, with enough to fix it without reading any docs. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `scopes` or `endpoints.token`. */
  field: string;
  /** Where the user wrote it, e.g. `provider.corp.options.oauth2.scopes`. */
  location: string;
  /** What was expected (the validation message). */
  expected: string;
  /** How to fix it. */
  fix: string;
}

export const fieldHelp = (description: string, example?: string): FieldHelp =>
  example === undefined ? { description } : { description, example };

/** Attaches a field's help to its schema node, where parse.ts finds it for error messages. */
export const withHelp = <T extends z.ZodMiniType>(
  schema: T,
  description: string,
  example?: string,
): T => {
  z.globalRegistry.add(schema, fieldHelp(description, example));
  return schema;
};

/**
 * What this module reads of a zod schema: the internals zod (classic and mini alike) keeps in
 * `_zod.def`. They are not public API, so this is the one place that reads them.
 */
interface SchemaNode {
  _zod: {
    def: {
      shape?: Record<string, SchemaNode>;
      innerType?: SchemaNode;
      in?: SchemaNode;
      element?: SchemaNode;
      type?: string;
    };
  };
}

const nodeOf = (schema: unknown): SchemaNode | undefined =>
  typeof schema === "object" && schema !== null && "_zod" in schema
    ? (schema as SchemaNode)
    : undefined;

/** The node and what it wraps: optional → default → pipe → … → the base type. */
function unwrapChain(node: SchemaNode): SchemaNode[] {
  const chain: SchemaNode[] = [];
  for (let current: SchemaNode | undefined = node; current && chain.length < 8; ) {
    chain.push(current);
    current = current._zod.def.innerType ?? current._zod.def.in;
  }
  return chain;
}

/** The fields of an object schema, through its wrappers. */
function shapeOf(node: SchemaNode): Record<string, SchemaNode> | undefined {
  return unwrapChain(node).find((n) => n._zod.def.shape)?._zod.def.shape;
}

/** The schema at `path` inside `root`: through wrappers, object fields and array elements. */
function schemaAt(root: unknown, path: readonly PropertyKey[]): SchemaNode | undefined {
  let node = nodeOf(root);
  for (const key of path) {
    if (!node) return undefined;
    const chain = unwrapChain(node);
    const shape = shapeOf(node);
    const array = chain.find((n) => n._zod.def.type === "array");
    // Own fields only: an unknown key such as "constructor" or "__proto__" is not a schema node.
    if (shape) node = Object.hasOwn(shape, String(key)) ? shape[String(key)] : undefined;
    else node = array && typeof key === "number" ? array._zod.def.element : undefined;
  }
  return node;
}

/** The help registered on the field at `path` (on the schema or on one it wraps). */
export function helpAt(root: unknown, path: readonly PropertyKey[]): FieldHelp | undefined {
  const node = schemaAt(root, path);
  if (!node) return undefined;
  for (const n of unwrapChain(node)) {
    const meta = z.globalRegistry.get(n as unknown as z.ZodMiniType) as FieldHelp | undefined;
    if (meta?.description) return meta;
  }
  return undefined;
}

/** The help of the field at `path`, or of its nearest parent field that has one. */
export function nearestHelpAt(root: unknown, path: readonly PropertyKey[]): FieldHelp | undefined {
  for (let length = path.length; length > 0; length--) {
    const help = helpAt(root, path.slice(0, length));
    if (help) return help;
  }
  return undefined;
}

/** The field names of the object schema at `path`, for "known fields" hints. */
export function fieldNamesAt(root: unknown, path: readonly PropertyKey[]): string[] {
  const node = schemaAt(root, path);
  return Object.keys((node && shapeOf(node)) ?? {});
}
