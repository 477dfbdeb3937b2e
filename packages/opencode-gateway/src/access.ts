import { type AccessConfig, ALL_MODELS } from "./access-config.js";
import { Lru } from "./lru.js";
import { buildModelsInfo, type ModelConfig, type ModelsInfoDocument } from "./models-info.js";
import type { Refusal, V1Call } from "./v1/hooks.js";
import { type Claims, groupsOf, scopesOf } from "./verify-token.js";

/**
 * Per-caller model access: the `access` table (access-config.ts) applied to a token's groups
 * and scopes. A call naming a model the caller may not use is refused with 403 before the
 * upstream sees it; `/v1/models` and `/v1/models-info` list only the caller's models.
 *
 * `"*"` grants every model, also one `models` does not list (as without `access`). A caller with
 * a narrower grant must name an allowed model in the JSON body of every request that has a
 * body: a request whose model cannot be read would otherwise reach whatever default the
 * upstream picks.
 */

export type Allowed = "all" | ReadonlySet<string>;

export interface ModelAccess {
  /** The models `claims` may use. */
  allowed(claims: Claims): Allowed;
  /** The admit step: a 403 refusal, or undefined to let the call on. */
  admit(call: V1Call): Refusal | undefined;
  /** The OpenAI `GET /v1/models` answer for `claims`, from the configured models. */
  modelList(claims: Claims): { object: "list"; data: Array<Record<string, unknown>> };
  /** The `/v1/models-info` document for `claims` (same ETag for the same set of models). */
  modelsInfo(claims: Claims): ModelsInfoDocument;
}

export interface ModelAccessOptions {
  access: AccessConfig;
  groupsClaim: string;
  models: readonly ModelConfig[];
  /** `owned_by` in the model list. */
  owner: string;
  /**
   * The `WWW-Authenticate` value of a refusal that a scope would lift (auth.ts builds every
   * challenge); none when no scope grants the model.
   */
  challenge?: (scope: string, description: string) => string;
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);
const MODEL_ROUTE = /^\/v1\/models\/([^/]+)$/;
/** How many allowed ids a refusal names before "…". */
const NAMED_IN_REFUSAL = 20;
/** Distinct sets of models for which a models-info document is kept. */
const DOCUMENTS_KEPT = 256;

/** The model a call is about: the body's `model`, or the id in `GET /v1/models/<id>`. */
function modelOf(call: V1Call): string | undefined {
  if (call.model !== undefined) return call.model;
  const match = call.method === "GET" ? MODEL_ROUTE.exec(call.route) : null;
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

export function createModelAccess(options: ModelAccessOptions): ModelAccess {
  const { access, models } = options;
  const documents = new Lru<string, ModelsInfoDocument>(DOCUMENTS_KEPT);
  // Which scopes grant a model: named in the challenge, so a client knows what to ask for.
  const scopesFor = (model: string) =>
    Object.entries(access.scopes)
      .filter(([, list]) => list.includes(model) || list.includes(ALL_MODELS))
      .map(([scope]) => scope);

  const allowed = (claims: Claims): Allowed => {
    const lists = [
      access.everyone,
      ...groupsOf(claims, options.groupsClaim).map((g) => access.groups[g] ?? []),
      ...scopesOf(claims).map((s) => access.scopes[s] ?? []),
    ];
    const ids = new Set<string>();
    for (const list of lists) {
      for (const id of list) {
        if (id === ALL_MODELS) return "all";
        ids.add(id);
      }
    }
    return ids;
  };

  const listed = (claims: Claims): ModelConfig[] => {
    const grant = allowed(claims);
    return grant === "all" ? [...models] : models.filter((m) => grant.has(m.id));
  };

  const refuse = (message: string, model: string | undefined): Refusal => {
    const scopes = model === undefined ? [] : scopesFor(model);
    const challenge =
      scopes.length > 0 ? options.challenge?.(scopes.join(" "), message) : undefined;
    return {
      status: 403,
      headers: {
        "cache-control": "no-store",
        ...(challenge ? { "www-authenticate": challenge } : {}),
      },
      body: { error: { message, type: "permission_error", code: "model_not_allowed" } },
    };
  };

  return {
    allowed,
    admit(call) {
      const grant = allowed(call.claims);
      if (grant === "all") return undefined;
      const names = [...grant].slice(0, NAMED_IN_REFUSAL).join(", ");
      const yours =
        grant.size === 0
          ? "you may use no model here"
          : `you may use: ${names}${grant.size > NAMED_IN_REFUSAL ? ", …" : ""}`;
      const model = modelOf(call);
      if (model === undefined) {
        if (!BODY_METHODS.has(call.method)) return undefined;
        return refuse(`name the model in the JSON body's "model" field (${yours})`, undefined);
      }
      if (grant.has(model)) return undefined;
      return refuse(`the model "${model}" is not available to you (${yours})`, model);
    },
    modelList(claims) {
      return {
        object: "list",
        data: listed(claims).map((m) => ({
          id: m.id,
          object: "model",
          created: 0,
          owned_by: options.owner,
        })),
      };
    },
    modelsInfo(claims) {
      const shown = listed(claims);
      const key = shown.map((m) => m.id).join("\n");
      const cached = documents.get(key);
      if (cached) return cached;
      const document = buildModelsInfo(shown);
      documents.set(key, document);
      return document;
    },
  };
}
