import { withHelp } from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";
import { nonEmpty } from "./config-fields.js";

/**
 * The `access` section of the gateway config (config.ts): which models a caller may use, by the
 * groups in the token (`groupsClaim`) and by its scopes. The table is the config's; access.ts
 * applies it to a call.
 */

/** Grants every model, also those `models` does not list. */
export const ALL_MODELS = "*";

const modelList = withHelp(
  z.array(nonEmpty('a model id or "*"'), { error: 'expected an array of model ids or "*"' }),
  'Model ids from `models`, or "*" for every model.',
  '["team/coder"]',
);

const table = (what: string, example: string) =>
  withHelp(
    z._default(
      z.record(nonEmpty(what), modelList, {
        error: `expected an object mapping each ${what} to a list of model ids`,
      }),
      {},
    ),
    `Maps a ${what} to the models it grants.`,
    example,
  );

export const AccessSchema = withHelp(
  z
    .strictObject({
      groups: table("group", '{ "/llm-admins": ["*"], "/llm-users": ["team/small"] }'),
      scopes: table("scope", '{ "llm:coder": ["team/coder"] }'),
      everyone: withHelp(
        z._default(modelList, []),
        "Models every accepted token may use, whatever its groups and scopes.",
        '["team/small"]',
      ),
    })
    .check(
      z.superRefine((access, ctx) => {
        const granted =
          access.everyone.length +
          Object.values(access.groups).flat().length +
          Object.values(access.scopes).flat().length;
        if (granted === 0) {
          ctx.addIssue({
            code: "custom",
            message:
              'grants no model to anyone: map a group or a scope to model ids (e.g. "groups": { "/llm-users": ["*"] }), or remove `access` to let every accepted token use every model',
          });
        }
      }),
    ),
  "Which models a caller may use, by group (groupsClaim) and scope. Without it, every accepted token may use every model.",
  '{ "groups": { "/llm-admins": ["*"], "/llm-users": ["team/small"] } }',
);

export type AccessConfig = z.output<typeof AccessSchema>;

/** Every model id the table names must be one the gateway serves (or "*"). */
export function checkAccessModels(
  access: AccessConfig | undefined,
  models: readonly { id: string }[],
  ctx: z.RefinementCtx,
): void {
  if (!access) return;
  const known = new Set(models.map((m) => m.id));
  const lists: Array<[Array<string | number>, string[]]> = [
    [["everyone"], access.everyone],
    ...Object.entries(access.groups).map(([g, list]): [string[], string[]] => [
      ["groups", g],
      list,
    ]),
    ...Object.entries(access.scopes).map(([s, list]): [string[], string[]] => [
      ["scopes", s],
      list,
    ]),
  ];
  for (const [path, list] of lists) {
    list.forEach((id, index) => {
      if (id === ALL_MODELS || known.has(id)) return;
      ctx.addIssue({
        code: "custom",
        path: ["access", ...path, index],
        message: `"${id}" is not a model this gateway serves: use an id from models[] (${[...known].join(", ")}) or "*"`,
      });
    });
  }
}
