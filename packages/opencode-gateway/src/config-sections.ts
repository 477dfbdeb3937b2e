import { withHelp } from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";
import {
  addressList,
  expected,
  httpUrl,
  nonEmpty,
  noTrailingSlash,
  secureUrl,
} from "./config-fields.js";
import { ListenTlsSchema } from "./listen-tls.js";

/**
 * The nested objects of the gateway config (config.ts): how opaque tokens are introspected,
 * where requests go, what the manifest tells users, and how the gateway listens — with the
 * limits and the trusted proxies that belong to the listener.
 */

export const IntrospectionSchema = withHelp(
  z.strictObject({
    endpoint: secureUrl(
      "The IdP's RFC 7662 introspection endpoint.",
      '"https://login.example.com/realms/corp/protocol/openid-connect/token/introspect"',
    ),
    clientId: withHelp(
      nonEmpty("the gateway's own client id at the IdP"),
      "A confidential client the gateway authenticates as.",
      '"llm-gateway"',
    ),
    clientSecret: withHelp(
      nonEmpty("its secret"),
      "Its secret (prefer the OPENCODE_GATEWAY_INTROSPECTION_CLIENT_SECRET env var).",
      '"s3cr3t"',
    ),
    timeoutMs: withHelp(
      z._default(z.number().check(z.int(), z.gte(100)), 5000),
      "Per request.",
      "5000",
    ),
    cacheSec: withHelp(
      z._default(z.number().check(z.int(), z.gte(0), z.lte(3600)), 60),
      "How long an active answer is reused (never past the token's exp); also how long a revocation at the IdP may take to be seen. 0: ask on every request.",
      "60",
    ),
    negativeCacheSec: withHelp(
      z._default(z.number().check(z.int(), z.gte(0), z.lte(3600)), 30),
      "How long an inactive answer (junk, revoked, expired) is reused.",
      "30",
    ),
    maxRequestsPerSec: withHelp(
      z._default(z.number().check(z.positive(), z.lte(10_000)), 20),
      "Introspection calls per second at most (and as many at once); beyond it, new opaque tokens get 503 until the budget refills.",
      "20",
    ),
  }),
  "Opaque (non-JWT) tokens are checked at this endpoint; without it they are refused.",
  '{ "endpoint": "https://…/introspect", "clientId": "llm-gateway", "clientSecret": "…" }',
);

export const UpstreamSchema = withHelp(
  z
    .strictObject(
      {
        baseURL: z.optional(
          z.pipe(
            httpUrl(
              "OpenAI-compatible base URL of the model server, with its /v1.",
              '"http://vllm.internal:8000/v1"',
            ),
            z.transform(noTrailingSlash),
          ),
        ),
        apiKey: withHelp(
          z.optional(nonEmpty("the upstream's own API key")),
          "Sent as `Authorization: Bearer` to the upstream instead of the user's token (prefer OPENCODE_GATEWAY_UPSTREAM_API_KEY).",
        ),
        demo: withHelp(
          z.optional(z.literal(true, { error: "expected true (or remove the field)" })),
          "Serve the built-in deterministic demo model instead of an upstream.",
          "true",
        ),
        headersTimeoutMs: withHelp(
          z._default(z.number().check(z.int(), z.gte(1000)), 300_000),
          "How long to wait for the upstream's response headers (a non-streaming completion sends them only at the end). Streams are never cut.",
          "300000",
        ),
        bodyTimeoutMs: withHelp(
          z._default(z.number().check(z.int(), z.gte(1000)), 300_000),
          "How long the upstream's answer may pause between two chunks before the gateway gives up on it (aborts the upstream request and ends the client's answer unfinished). A stream whose events keep coming is never cut, however long it lasts.",
          "300000",
        ),
        subjectHeader: withHelp(
          z.optional(
            z.string().check(z.regex(/^[A-Za-z0-9-]+$/, { error: "expected an HTTP header name" })),
          ),
          "Header set to the token's `sub` on upstream requests (for per-user accounting); a client-sent header of that name is always removed.",
          '"x-user-id"',
        ),
        tls: withHelp(
          z.optional(
            z
              .strictObject(
                {
                  caFile: withHelp(
                    z.optional(nonEmpty("a file path")),
                    "The CA that issued the model server's certificate (PEM), trusted next to the system's and NODE_EXTRA_CA_CERTS; also used for an https:// proxy on the way.",
                    '"/etc/opencode-gateway/model-ca.pem"',
                  ),
                  certFile: withHelp(
                    z.optional(nonEmpty("a file path")),
                    "The gateway's client certificate (PEM), presented to a model server that requires one (mutual TLS); with keyFile.",
                    '"/etc/opencode-gateway/gateway.crt"',
                  ),
                  keyFile: withHelp(
                    z.optional(nonEmpty("a file path")),
                    "The private key of certFile (PEM, unencrypted).",
                    '"/etc/opencode-gateway/gateway.key"',
                  ),
                },
                {
                  error: expected(
                    'an object, e.g. { "caFile": "/etc/opencode-gateway/model-ca.pem" }',
                  ),
                },
              )
              .check(
                z.superRefine((tls, ctx) => {
                  if (Boolean(tls.certFile) !== Boolean(tls.keyFile)) {
                    ctx.addIssue({
                      code: "custom",
                      path: tls.certFile ? ["keyFile"] : ["certFile"],
                      message: tls.certFile
                        ? "set upstream.tls.keyFile to the private key of certFile (PEM), or remove certFile"
                        : "set upstream.tls.certFile to the certificate of keyFile (PEM), or remove keyFile",
                    });
                  } else if (!tls.caFile && !tls.certFile) {
                    ctx.addIssue({
                      code: "custom",
                      path: [],
                      message:
                        "set upstream.tls.caFile (the model server's CA) and/or certFile and keyFile (the gateway's client certificate), or remove upstream.tls",
                    });
                  }
                }),
              ),
          ),
          "TLS to the model server: its private CA, and the gateway's client certificate when it requires one.",
          '{ "caFile": "/etc/opencode-gateway/model-ca.pem" }',
        ),
      },
      { error: expected('an object, e.g. { "baseURL": "http://vllm:8000/v1" }') },
    )
    .check(
      z.superRefine((up, ctx) => {
        if (Boolean(up.baseURL) === Boolean(up.demo)) {
          ctx.addIssue({
            code: "custom",
            path: up.baseURL ? ["demo"] : ["baseURL"],
            message: up.baseURL
              ? "set either upstream.baseURL or upstream.demo, not both"
              : 'set upstream.baseURL (e.g. "http://vllm:8000/v1"), or upstream.demo: true for the built-in demo model',
          });
        }
      }),
    ),
  "Where requests go.",
  '{ "baseURL": "http://vllm:8000/v1" }',
);

export const ManifestOptionsSchema = withHelp(
  z._default(
    z.strictObject({
      command: withHelp(
        z.optional(z.array(nonEmpty("an argv element")).check(z.minLength(1))),
        "argv prefix of the login command; `login <providerId> --well-known <publicUrl> --print-key` is appended.",
        '["node", "/opt/opencode-oauth2/dist/cli/main.js"]',
      ),
      plugins: withHelp(
        z.optional(z.array(nonEmpty("a plugin spec"))),
        "opencode plugin specs (default: @vymalo/opencode-oauth2 and @vymalo/opencode-models-info at pluginVersion).",
        '["file:///opt/plugins/oauth2/dist/index.js"]',
      ),
      pluginVersion: withHelp(
        z.optional(
          z.string().check(
            z.regex(/^[0-9A-Za-z.+-]+$/, {
              error: 'expected a version or dist-tag, e.g. "1.2.3"',
            }),
          ),
        ),
        "Version of the default command and plugins (default: each plugin's version this gateway was built with).",
        '"1.2.3"',
      ),
      env: withHelp(
        z.optional(
          z.string().check(
            z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
              error: "expected an environment variable name",
            }),
          ),
        ),
        "Name of `auth.env` (default OPENCODE_<PROVIDERID>_KEY).",
        '"CORP_LLM_KEY"',
      ),
      configSchema: withHelp(
        z.optional(z.string()),
        "`$schema` written into `config`.",
        '"https://opencode.ai/config.json"',
      ),
    }),
    {},
  ),
  "How the manifest tells opencode to log in and which plugins to load.",
);

const MiB = 1024 * 1024;

const TrustProxySchema = withHelp(
  z._default(
    z.union(
      [
        z.number().check(z.int(), z.gte(0), z.lte(10)),
        addressList("proxy address", '"10.0.0.0/8", "192.0.2.10", "fd00::/8"'),
      ],
      {
        error:
          'expected a number of proxy hops (e.g. 1) or a list of proxy addresses/CIDRs (e.g. ["10.0.0.0/8"])',
      },
    ),
    0,
  ),
  "The proxies in front of the gateway whose X-Forwarded-For/-Proto/-Host are believed: their addresses or CIDRs, or a number of hops. 0: none (headers from clients are dropped).",
  '["10.0.0.0/8"]',
);

export const ListenSchema = z._default(
  z.strictObject({
    host: withHelp(
      z._default(z.string().check(z.minLength(1)), "0.0.0.0"),
      "Interface to bind.",
      '"0.0.0.0"',
    ),
    port: withHelp(
      z._default(
        z.number({ error: "expected a port number" }).check(z.int(), z.gte(0), z.lte(65535)),
        8080,
      ),
      "Port (0: any free port).",
      "8080",
    ),
    shutdownGraceMs: withHelp(
      z._default(z.number().check(z.int(), z.gte(0)), 10_000),
      "On SIGTERM, how long open requests (streams) may finish.",
      "10000",
    ),
    trustProxy: TrustProxySchema,
    maxBodyBytes: withHelp(
      z._default(z.number().check(z.int(), z.gte(1024)), 32 * MiB),
      "Largest request body accepted, in bytes; larger ones (also chunked) get 413.",
      "33554432",
    ),
    tls: z.optional(ListenTlsSchema),
  }),
  {
    host: "0.0.0.0",
    port: 8080,
    shutdownGraceMs: 10_000,
    trustProxy: 0,
    maxBodyBytes: 32 * MiB,
  },
);
