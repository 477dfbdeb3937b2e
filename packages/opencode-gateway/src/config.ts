import { z } from "zod";
import {
  algorithm,
  DEFAULT_ALGORITHMS,
  expected,
  help,
  httpUrl,
  nonEmpty,
  noTrailingSlash,
  secureUrl,
  stringList,
} from "./config-fields.js";
import { isAddressOrCidr } from "./forwarded.js";
import { ModelSchema } from "./models-info.js";
import { checkPublishedOAuth2, publishedOAuth2 } from "./published-oauth2.js";

export {
  ASYMMETRIC_ALGORITHMS,
  DEFAULT_ALGORITHMS,
  type FieldHelp,
} from "./config-fields.js";

/**
 * The gateway's configuration: ONE zod schema, its TypeScript type inferred from it. The help
 * text of every field lives here, in `.meta()`, where error messages read it. Validation errors
 * are config-parse.ts; loading a file and applying environment overrides is config-load.ts.
 */

const IntrospectionSchema = z
  .strictObject({
    endpoint: secureUrl(
      "The IdP's RFC 7662 introspection endpoint.",
      '"https://login.example.com/realms/corp/protocol/openid-connect/token/introspect"',
    ),
    clientId: nonEmpty("the gateway's own client id at the IdP").meta(
      help("A confidential client the gateway authenticates as.", '"llm-gateway"'),
    ),
    clientSecret: nonEmpty("its secret").meta(
      help(
        "Its secret (prefer the OPENCODE_GATEWAY_INTROSPECTION_CLIENT_SECRET env var).",
        '"s3cr3t"',
      ),
    ),
    timeoutMs: z.number().int().min(100).default(5000).meta(help("Per request.", "5000")),
    cacheSec: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(60)
      .meta(
        help(
          "How long an active answer is reused (never past the token's exp); also how long a revocation at the IdP may take to be seen. 0: ask on every request.",
          "60",
        ),
      ),
    negativeCacheSec: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(30)
      .meta(help("How long an inactive answer (junk, revoked, expired) is reused.", "30")),
    maxRequestsPerSec: z
      .number()
      .positive()
      .max(10_000)
      .default(20)
      .meta(
        help(
          "Introspection calls per second at most (and as many at once); beyond it, new opaque tokens get 503 until the budget refills.",
          "20",
        ),
      ),
  })
  .meta(
    help(
      "Opaque (non-JWT) tokens are checked at this endpoint; without it they are refused.",
      '{ "endpoint": "https://…/introspect", "clientId": "llm-gateway", "clientSecret": "…" }',
    ),
  );

const UpstreamSchema = z
  .strictObject(
    {
      baseURL: httpUrl(
        "OpenAI-compatible base URL of the model server, with its /v1.",
        '"http://vllm.internal:8000/v1"',
      )
        .transform(noTrailingSlash)
        .optional(),
      apiKey: nonEmpty("the upstream's own API key")
        .optional()
        .meta(
          help(
            "Sent as `Authorization: Bearer` to the upstream instead of the user's token (prefer OPENCODE_GATEWAY_UPSTREAM_API_KEY).",
          ),
        ),
      demo: z
        .literal(true, { error: "expected true (or remove the field)" })
        .optional()
        .meta(help("Serve the built-in deterministic demo model instead of an upstream.", "true")),
      headersTimeoutMs: z
        .number()
        .int()
        .min(1000)
        .default(300_000)
        .meta(
          help(
            "How long to wait for the upstream's response headers (a non-streaming completion sends them only at the end). Streams are never cut.",
            "300000",
          ),
        ),
      subjectHeader: z
        .string()
        .regex(/^[A-Za-z0-9-]+$/, { error: "expected an HTTP header name" })
        .optional()
        .meta(
          help(
            "Header set to the token's `sub` on upstream requests (for per-user accounting); a client-sent header of that name is always removed.",
            '"x-user-id"',
          ),
        ),
    },
    { error: expected('an object, e.g. { "baseURL": "http://vllm:8000/v1" }') },
  )
  .superRefine((up, ctx) => {
    if (Boolean(up.baseURL) === Boolean(up.demo)) {
      ctx.addIssue({
        code: "custom",
        path: up.baseURL ? ["demo"] : ["baseURL"],
        message: up.baseURL
          ? "set either upstream.baseURL or upstream.demo, not both"
          : 'set upstream.baseURL (e.g. "http://vllm:8000/v1"), or upstream.demo: true for the built-in demo model',
      });
    }
  })
  .meta(help("Where requests go.", '{ "baseURL": "http://vllm:8000/v1" }'));

const ManifestOptionsSchema = z
  .strictObject({
    command: z
      .array(nonEmpty("an argv element"))
      .min(1)
      .optional()
      .meta(
        help(
          "argv prefix of the login command; `login <providerId> --well-known <publicUrl> --print-key` is appended.",
          '["node", "/opt/opencode-oauth2/dist/cli/main.js"]',
        ),
      ),
    plugins: z
      .array(nonEmpty("a plugin spec"))
      .optional()
      .meta(
        help(
          "opencode plugin specs (default: @vymalo/opencode-oauth2 and @vymalo/opencode-models-info at pluginVersion).",
          '["file:///opt/plugins/oauth2/dist/index.js"]',
        ),
      ),
    pluginVersion: z
      .string()
      .regex(/^[0-9A-Za-z.+-]+$/, { error: 'expected a version or dist-tag, e.g. "1.2.3"' })
      .optional()
      .meta(
        help("Version of the default command and plugins (default: the gateway's).", '"1.2.3"'),
      ),
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name" })
      .optional()
      .meta(help("Name of `auth.env` (default OPENCODE_<PROVIDERID>_KEY).", '"CORP_LLM_KEY"')),
    configSchema: z
      .string()
      .optional()
      .meta(help("`$schema` written into `config`.", '"https://opencode.ai/config.json"')),
  })
  .default({})
  .meta(help("How the manifest tells opencode to log in and which plugins to load."));

const MiB = 1024 * 1024;

const TrustProxySchema = z
  .union(
    [
      z.number().int().min(0).max(10),
      stringList("proxy address").superRefine((list, ctx) => {
        list.forEach((entry, index) => {
          if (!isAddressOrCidr(entry)) {
            ctx.addIssue({
              code: "custom",
              path: [index],
              message: `"${entry}" is not an IP address or CIDR (e.g. "10.0.0.0/8", "192.0.2.10", "fd00::/8")`,
            });
          }
        });
      }),
    ],
    {
      error:
        'expected a number of proxy hops (e.g. 1) or a list of proxy addresses/CIDRs (e.g. ["10.0.0.0/8"])',
    },
  )
  .default(0)
  .meta(
    help(
      "The proxies in front of the gateway whose X-Forwarded-For/-Proto/-Host are believed: their addresses or CIDRs, or a number of hops. 0: none (headers from clients are dropped).",
      '["10.0.0.0/8"]',
    ),
  );

const ListenSchema = z
  .strictObject({
    host: z.string().min(1).default("0.0.0.0").meta(help("Interface to bind.", '"0.0.0.0"')),
    port: z
      .number({ error: "expected a port number" })
      .int()
      .min(0)
      .max(65535)
      .default(8080)
      .meta(help("Port (0: any free port).", "8080")),
    shutdownGraceMs: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .meta(help("On SIGTERM, how long open requests (streams) may finish.", "10000")),
    trustProxy: TrustProxySchema,
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(32 * MiB)
      .meta(
        help(
          "Largest request body accepted, in bytes; larger ones (also chunked) get 413.",
          "33554432",
        ),
      ),
  })
  .default({
    host: "0.0.0.0",
    port: 8080,
    shutdownGraceMs: 10_000,
    trustProxy: 0,
    maxBodyBytes: 32 * MiB,
  });

export const GatewayConfigSchema = z
  .strictObject({
    publicUrl: secureUrl(
      "The gateway's external URL, as users type it after `opencode auth login`.",
      '"https://llm.example.com"',
    ).transform(noTrailingSlash),
    issuer: secureUrl(
      "The IdP's issuer, exactly as its discovery document and the tokens' `iss` spell it.",
      '"https://login.example.com/realms/corp"',
    ),
    jwksUri: secureUrl(
      "JWKS URL; default: `jwks_uri` of <issuer>/.well-known/openid-configuration.",
      '"https://login.example.com/realms/corp/protocol/openid-connect/certs"',
    ).optional(),
    audiences: stringList("audience")
      .refine((list) => list.length > 0, { error: "list at least one accepted audience" })
      .meta(
        help(
          "Accepted `aud` values: a token passes when one of its audiences is listed.",
          '["https://llm.example.com"]',
        ),
      ),
    clients: stringList("client id")
      .default([])
      .meta(
        help(
          "Accepted `azp`/`client_id` values besides oauth2.clientId (which is always accepted), e.g. the web client.",
          '["llm-web"]',
        ),
      ),
    clientClaims: stringList("claim name")
      .default(["azp", "client_id"])
      .meta(
        help(
          "Claims naming the client, the first present one is checked (Okta: cid).",
          '["azp", "client_id"]',
        ),
      ),
    algorithms: z
      .array(algorithm)
      .min(1, { error: "list at least one algorithm" })
      .default([...DEFAULT_ALGORITHMS])
      .meta(help("Accepted JWS algorithms (asymmetric only).", '["RS256", "ES256"]')),
    clockToleranceSec: z
      .number()
      .int()
      .min(0)
      .max(300, { error: "at most 300 seconds; fix the clocks (NTP) instead" })
      .default(30)
      .meta(help("Allowed clock skew for exp/nbf/iat.", "30")),
    requireAtJwt: z
      .boolean()
      .default(false)
      .meta(
        help(
          "Accept only JWTs whose header says typ at+jwt (RFC 9068). Leave false for IdPs that send typ JWT or none (Keycloak, Entra ID, Okta, Auth0 by default).",
          "true",
        ),
      ),
    requiredScopes: stringList("scope")
      .default([])
      .meta(help("Scopes a token must all carry (`scope` or `scp`).", '["llm:use"]')),
    requiredGroups: stringList("group")
      .default([])
      .meta(help("A token must carry at least one of these groups.", '["/llm-users"]')),
    groupsClaim: nonEmpty("a claim name")
      .default("groups")
      .meta(help("Claim holding groups; a dotted path reaches nested claims.", '"groups"')),
    introspection: IntrospectionSchema.optional(),
    upstream: UpstreamSchema,
    models: z
      .array(ModelSchema, { error: expected("an array of models") })
      .min(1, { error: "list at least one model the gateway serves" })
      .meta(help("The models served, with OpenRouter-shaped metadata.")),
    oauth2: z
      .record(z.string(), z.unknown(), {
        error: expected(
          'an object, e.g. { "clientId": "opencode-cli", "authFlow": "device_code" }',
        ),
      })
      .meta(
        help(
          "The login settings published to users (opencode-oauth2's provider oauth2 fields; issuer is added).",
          '{ "clientId": "opencode-cli", "scopes": ["openid", "offline_access"], "authFlow": "device_code" }',
        ),
      ),
    providerId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'expected lower-case letters, digits, "-" or "_"' })
      .default("llm")
      .meta(help("The opencode provider id users see.", '"corp"')),
    providerName: z
      .string()
      .min(1)
      .optional()
      .meta(help("Display name of the provider (default: the publicUrl host).", '"Corp LLM"')),
    realm: z
      .string()
      .regex(/^[^"\\]+$/, { error: "must not contain quotes or backslashes" })
      .optional()
      .meta(help("`realm` of WWW-Authenticate (default: publicUrl).", '"llm.example.com"')),
    manifest: ManifestOptionsSchema,
    listen: ListenSchema,
  })
  .superRefine((cfg, ctx) => {
    checkPublishedOAuth2(cfg.issuer, cfg.oauth2, ctx);
    checkAudiencesAreNotClients(cfg, ctx);
    const seen = new Set<string>();
    cfg.models.forEach((model, index) => {
      if (seen.has(model.id)) {
        ctx.addIssue({
          code: "custom",
          path: ["models", index, "id"],
          message: `duplicate model id "${model.id}"`,
        });
      }
      seen.add(model.id);
    });
  })
  .transform((cfg) => {
    const published = publishedOAuth2(cfg.issuer, cfg.oauth2);
    return {
      ...cfg,
      oauth2: published,
      /** `clients` plus the published CLI client: every client whose tokens are accepted. */
      acceptedClients: [...new Set([published.clientId, ...cfg.clients])],
      realm: cfg.realm ?? cfg.publicUrl,
      providerName: cfg.providerName ?? new URL(cfg.publicUrl).host,
    };
  });

/**
 * An OIDC ID token's `aud` is the client id it was issued to. An audience that is also a client
 * id therefore lets that client's ID tokens pass as access tokens.
 */
function checkAudiencesAreNotClients(
  cfg: { audiences: string[]; clients: string[]; oauth2: Record<string, unknown> },
  ctx: z.RefinementCtx,
) {
  cfg.audiences.forEach((audience, index) => {
    const source =
      audience === cfg.oauth2.clientId
        ? "oauth2.clientId"
        : cfg.clients.includes(audience)
          ? "clients"
          : undefined;
    if (!source) return;
    ctx.addIssue({
      code: "custom",
      path: ["audiences", index],
      message: `"${audience}" is a client id (${source}): an ID token's aud is the client id it was issued to, so listing it here lets ID tokens pass as access tokens. Give the API its own audience and list that instead (Keycloak: an Audience mapper with a custom audience such as the publicUrl; Entra ID: a separate app registration that exposes the API; Auth0: the API identifier)`,
    });
  });
}

export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;
export type ModelEntry = GatewayConfig["models"][number];
