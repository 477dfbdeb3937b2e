import { withHelp } from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";
import { AccessSchema, checkAccessModels } from "./access-config.js";
import {
  type CertificateBinding,
  CertificateBindingSchema,
  defaultCertificateBinding,
} from "./certificate-binding-config.js";
import {
  algorithm,
  DEFAULT_ALGORITHMS,
  expected,
  nonEmpty,
  noTrailingSlash,
  secureUrl,
  stringList,
} from "./config-fields.js";
import {
  IntrospectionSchema,
  ListenSchema,
  ManifestOptionsSchema,
  UpstreamSchema,
} from "./config-sections.js";
import { asksForClientCertificates, type ListenTls } from "./listen-tls.js";
import { MetricsSchema } from "./metrics-config.js";
import { ModelSchema } from "./models-info.js";
import { checkPublishedOAuth2, publishedOAuth2 } from "./published-oauth2.js";
import { QuotaSchema } from "./quota/config.js";

export {
  ASYMMETRIC_ALGORITHMS,
  DEFAULT_ALGORITHMS,
  type FieldHelp,
} from "./config-fields.js";

/**
 * The gateway's configuration: ONE zod schema, its TypeScript type inferred from it. The help
 * text of every field lives here and in config-sections.ts (the nested objects), registered
 * with `withHelp`, where error messages read it. Validation errors are config-parse.ts; loading
 * a file and applying environment overrides is config-load.ts. The zod is the core's
 * (`@vymalo/oauth2-core/zod`, zod/mini): the process holds one zod, for the core's schemas,
 * which this config composes, and these.
 */

export const GatewayConfigSchema = z.pipe(
  z
    .strictObject({
      publicUrl: z.pipe(
        secureUrl(
          "The gateway's external URL, as users type it after `opencode auth login`.",
          '"https://llm.example.com"',
        ),
        z.transform(noTrailingSlash),
      ),
      issuer: secureUrl(
        "The IdP's issuer, exactly as its discovery document and the tokens' `iss` spell it.",
        '"https://login.example.com/realms/corp"',
      ),
      jwksUri: z.optional(
        secureUrl(
          "JWKS URL; default: `jwks_uri` of <issuer>/.well-known/openid-configuration.",
          '"https://login.example.com/realms/corp/protocol/openid-connect/certs"',
        ),
      ),
      audiences: withHelp(
        stringList("audience").check(
          z.refine((list) => list.length > 0, { error: "list at least one accepted audience" }),
        ),
        "Accepted `aud` values: a token passes when one of its audiences is listed.",
        '["https://llm.example.com"]',
      ),
      clients: withHelp(
        z._default(stringList("client id"), []),
        "Accepted `azp`/`client_id` values besides oauth2.clientId (which is always accepted), e.g. the web client.",
        '["llm-web"]',
      ),
      clientClaims: withHelp(
        z._default(stringList("claim name"), ["azp", "client_id"]),
        "Claims naming the client, the first present one is checked (Okta: cid).",
        '["azp", "client_id"]',
      ),
      algorithms: withHelp(
        z._default(
          z.array(algorithm).check(z.minLength(1, { error: "list at least one algorithm" })),
          [...DEFAULT_ALGORITHMS],
        ),
        "Accepted JWS algorithms (asymmetric only).",
        '["RS256", "ES256"]',
      ),
      clockToleranceSec: withHelp(
        z._default(
          z
            .number()
            .check(
              z.int(),
              z.gte(0),
              z.lte(300, { error: "at most 300 seconds; fix the clocks (NTP) instead" }),
            ),
          30,
        ),
        "Allowed clock skew for exp/nbf/iat.",
        "30",
      ),
      requireAtJwt: withHelp(
        z._default(z.boolean(), false),
        "Accept only JWTs whose header says typ at+jwt (RFC 9068). Leave false for IdPs that send typ JWT or none (Keycloak, Entra ID, Okta, Auth0 by default).",
        "true",
      ),
      allowIdTokenShapedAccessTokens: withHelp(
        z._default(z.boolean(), false),
        "For IdPs whose access tokens carry an ID token's marks (authentik: aud is the client id, a nonce after a browser login): skip the ID-token check and allow a client id in audiences. That client's ID tokens then pass as access tokens too; leave false for every IdP that gives APIs their own audience.",
        "true",
      ),
      requiredScopes: withHelp(
        z._default(stringList("scope"), []),
        "Scopes a token must all carry (`scope` or `scp`).",
        '["llm:use"]',
      ),
      requiredGroups: withHelp(
        z._default(stringList("group"), []),
        "A token must carry at least one of these groups.",
        '["/llm-users"]',
      ),
      groupsClaim: withHelp(
        z._default(nonEmpty("a claim name"), "groups"),
        "Claim holding groups; a dotted path reaches nested claims.",
        '"groups"',
      ),
      certificateBinding: CertificateBindingSchema,
      introspection: z.optional(IntrospectionSchema),
      upstream: UpstreamSchema,
      models: withHelp(
        z
          .array(ModelSchema, { error: expected("an array of models") })
          .check(z.minLength(1, { error: "list at least one model the gateway serves" })),
        "The models served, with OpenRouter-shaped metadata.",
      ),
      oauth2: withHelp(
        z.record(z.string(), z.unknown(), {
          error: expected(
            'an object, e.g. { "clientId": "opencode-cli", "authFlow": "device_code" }',
          ),
        }),
        "The login settings published to users (opencode-oauth2's provider oauth2 fields; issuer is added).",
        '{ "clientId": "opencode-cli", "scopes": ["openid", "offline_access"], "authFlow": "device_code" }',
      ),
      providerId: withHelp(
        z._default(
          z.string().check(
            z.regex(/^[a-z0-9][a-z0-9_-]*$/, {
              error: 'expected lower-case letters, digits, "-" or "_"',
            }),
          ),
          "llm",
        ),
        "The opencode provider id users see.",
        '"corp"',
      ),
      providerName: withHelp(
        z.optional(z.string().check(z.minLength(1))),
        "Display name of the provider (default: the publicUrl host).",
        '"Corp LLM"',
      ),
      realm: withHelp(
        z.optional(
          z
            .string()
            .check(z.regex(/^[^"\\]+$/, { error: "must not contain quotes or backslashes" })),
        ),
        "`realm` of WWW-Authenticate (default: publicUrl).",
        '"llm.example.com"',
      ),
      manifest: ManifestOptionsSchema,
      listen: ListenSchema,
      access: z.optional(AccessSchema),
      quota: z.optional(QuotaSchema),
      metrics: z.optional(MetricsSchema),
    })
    .check(
      z.superRefine((cfg, ctx) => {
        checkPublishedOAuth2(cfg.issuer, cfg.oauth2, ctx);
        checkAudiencesAreNotClients(cfg, ctx);
        checkAccessModels(cfg.access, cfg.models, ctx);
        checkTlsListener(cfg, ctx);
        if (cfg.metrics && cfg.metrics.port !== 0 && cfg.metrics.port === cfg.listen.port) {
          ctx.addIssue({
            code: "custom",
            path: ["metrics", "port"],
            message: `the metrics listener needs a port of its own, not listen.port (${cfg.listen.port}): /metrics must never be reachable where the public routes are`,
          });
        }
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
      }),
    ),
  z.transform((cfg) => {
    const published = publishedOAuth2(cfg.issuer, cfg.oauth2);
    return {
      ...cfg,
      oauth2: published,
      /** `clients` plus the published CLI client: every client whose tokens are accepted. */
      acceptedClients: [...new Set([published.clientId, ...cfg.clients])],
      realm: cfg.realm ?? cfg.publicUrl,
      providerName: cfg.providerName ?? new URL(cfg.publicUrl).host,
      certificateBinding:
        cfg.certificateBinding ??
        defaultCertificateBinding(asksForClientCertificates(cfg.listen.tls)),
    };
  }),
);

/**
 * An OIDC ID token's `aud` is the client id it was issued to. An audience that is also a client
 * id therefore lets that client's ID tokens pass as access tokens.
 */
function checkAudiencesAreNotClients(
  cfg: {
    audiences: string[];
    clients: string[];
    oauth2: Record<string, unknown>;
    allowIdTokenShapedAccessTokens: boolean;
  },
  ctx: z.RefinementCtx,
) {
  if (cfg.allowIdTokenShapedAccessTokens) return;
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
      message: `"${audience}" is a client id (${source}): an ID token's aud is the client id it was issued to, so listing it here lets ID tokens pass as access tokens. Give the API its own audience and list that instead (Keycloak: an Audience mapper with a custom audience such as the publicUrl; Entra ID: a separate app registration that exposes the API; Auth0: the API identifier), or, for an IdP that cannot (authentik), set "allowIdTokenShapedAccessTokens": true`,
    });
  });
}

/**
 * What the TLS listener implies: the URLs the manifest and the RFC 9728 metadata publish are
 * https, and a binding check has a client certificate to compare (a gateway behind a proxy that
 * ends TLS never sees one, so it would refuse every bound token).
 */
function checkTlsListener(
  cfg: {
    publicUrl: string;
    listen: { tls?: ListenTls | undefined };
    certificateBinding?: CertificateBinding | undefined;
  },
  ctx: z.RefinementCtx,
) {
  const { tls } = cfg.listen;
  if (tls && !cfg.publicUrl.startsWith("https://")) {
    ctx.addIssue({
      code: "custom",
      path: ["publicUrl"],
      message: `the gateway serves https (listen.tls is set), so publicUrl, which the manifest and the RFC 9728 metadata publish, must be an https:// URL too (e.g. "https://${new URL(cfg.publicUrl).host}")`,
    });
  }
  const binding = cfg.certificateBinding;
  if (binding && binding !== "off" && !asksForClientCertificates(tls)) {
    ctx.addIssue({
      code: "custom",
      path: ["certificateBinding"],
      message: `"${binding}" compares a token's cnf with the client certificate presented to the gateway, and ${tls ? 'listen.tls.clientCertificate is "none"' : "listen.tls is not set"}: set listen.tls with clientCertificate "request" or "require", or set certificateBinding "off" (where TLS ends at a proxy in front of the gateway, that proxy must check the binding)`,
    });
  }
}

export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;
export type ModelEntry = GatewayConfig["models"][number];
