import * as z from "zod/mini";
import { withHelp } from "./field-help.js";
import { ASYMMETRIC_JWS_ALGORITHMS } from "./rules.js";

/**
 * The credentials a client or a workload presents instead of a stored secret, as schema parts
 * of the provider config (schema.ts): where a workload token is read (`subjectToken`, and a
 * federated `clientAssertion.token`) and the private key of `private_key_jwt`.
 */

/** Where CI platforms put a workload's token; see flows/token-source.ts. */
export const TOKEN_SOURCES = ["file", "env", "github-actions", "kubernetes"] as const;
export type TokenSourceKind = (typeof TOKEN_SOURCES)[number];
/** Where a pod's projected service-account token is mounted by default. */
export const KUBERNETES_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export const SubjectTokenSchema = withHelp(
  z
    .strictObject({
      source: withHelp(
        z.optional(z.enum(TOKEN_SOURCES, { error: `expected one of ${TOKEN_SOURCES.join(", ")}` })),
        "Where the token comes from: file, env, github-actions (the job's OIDC token; needs `permissions: id-token: write`) or kubernetes (the projected service-account token). Default: file or env, by which of them is set.",
        '"github-actions"',
      ),
      file: withHelp(
        z.optional(z.string().check(z.minLength(1))),
        "File holding the token (re-read at every exchange). With source kubernetes it defaults to the pod's service-account token.",
        '"/var/run/secrets/kubernetes.io/serviceaccount/token"',
      ),
      env: withHelp(
        z.optional(z.string().check(z.minLength(1))),
        "Environment variable holding the token.",
        '"CI_JOB_JWT"',
      ),
      audience: withHelp(
        z.optional(z.string().check(z.minLength(1))),
        "With source github-actions: the `aud` GitHub puts in the job's token (what the IdP's trust for this repository expects). Default: GitHub's default audience.",
        '"api://AzureADTokenExchange"',
      ),
      type: withHelp(
        z._default(z.string(), "urn:ietf:params:oauth:token-type:jwt"),
        "subject_token_type sent with token_exchange (jwt_bearer sends the token as `assertion`, without a type).",
        '"urn:ietf:params:oauth:token-type:jwt"',
      ),
    })
    .check(
      z.superRefine((value, ctx) => {
        const issue = (path: string, message: string) =>
          ctx.addIssue({ code: "custom", path: [path], message });
        const source = value.source;
        if (source === undefined && Boolean(value.file) === Boolean(value.env)) {
          issue(
            value.file ? "env" : "file",
            'set exactly one of "file" or "env", or a "source": "github-actions" / "kubernetes"',
          );
        }
        if (source === "file" && !value.file) issue("file", 'source file needs "file"');
        if (source === "env" && !value.env) issue("env", 'source env needs "env"');
        if (value.file && (source === "env" || source === "github-actions")) {
          issue("file", `source ${source} reads no file: remove "file"`);
        }
        if (value.env && source !== undefined && source !== "env") {
          issue("env", `source ${source} reads no environment variable: remove "env"`);
        }
        if (value.audience && source !== "github-actions") {
          issue("audience", 'only source "github-actions" requests a token for an audience');
        }
      }),
    ),
  "Where a workload token is read (token_exchange's subject token, jwt_bearer's assertion, a federated client assertion): a file, an env var, the GitHub Actions OIDC endpoint or the Kubernetes service-account token.",
  '{ "source": "github-actions", "audience": "https://login.example.com" }',
);

export type SubjectTokenOptions = z.output<typeof SubjectTokenSchema>;

/** What a client assertion can be signed with: the asymmetric JWS algorithms. */
export const ASSERTION_ALGS = ASYMMETRIC_JWS_ALGORITHMS;
export type AssertionAlg = (typeof ASSERTION_ALGS)[number];

/** A path of a file on this machine, with its help (the config's key, certificate and CA files). */
export const localPath = (description: string, example: string) =>
  withHelp(
    z
      .string({ error: "expected a file path" })
      .check(z.minLength(1, { error: "must not be empty" })),
    description,
    example,
  );

export const ClientAssertionSchema = withHelp(
  z
    .strictObject({
      keyFile: z.optional(
        localPath(
          "The client's private key: a PEM file (PKCS#8, PKCS#1 or SEC1) or a JWK file (one private JWK, or a JWKS holding one). Read when a token is requested, never logged.",
          '"/etc/opencode/ci-bot.key.pem"',
        ),
      ),
      token: withHelp(
        z.optional(SubjectTokenSchema),
        "Instead of a key: a workload token the IdP trusts as this client's assertion (workload identity federation, e.g. Entra ID with a GitHub Actions token), read like subjectToken.",
        '{ "source": "github-actions", "audience": "api://AzureADTokenExchange" }',
      ),
      certFile: z.optional(
        localPath(
          "The key's X.509 certificate (PEM): its thumbprints are sent as x5t and x5t#S256, which Entra ID uses to find the key.",
          '"/etc/opencode/ci-bot.crt.pem"',
        ),
      ),
      kid: withHelp(
        z.optional(z.string().check(z.minLength(1, { error: "must not be empty" }))),
        "Key id sent in the assertion's header. Default: the JWK's kid; none for a PEM key.",
        '"ci-bot-2026"',
      ),
      alg: withHelp(
        z.optional(
          z.enum(ASSERTION_ALGS, { error: `expected one of ${ASSERTION_ALGS.join(", ")}` }),
        ),
        "Signing algorithm. Default: the JWK's alg, else RS256 for RSA, ES256/ES384/ES512 by curve, EdDSA for Ed25519.",
        '"PS256"',
      ),
      audience: withHelp(
        z._default(
          z.enum(["token_endpoint", "issuer"], { error: 'expected "token_endpoint" or "issuer"' }),
          "token_endpoint",
        ),
        "The assertion's aud: the token endpoint URL (Entra ID, Okta, Keycloak, OpenID Connect Core) or the issuer (RFC 7523bis, FAPI 2.0).",
        '"issuer"',
      ),
    })
    .check(
      z.superRefine((value, ctx) => {
        if (Boolean(value.keyFile) === Boolean(value.token)) {
          ctx.addIssue({
            code: "custom",
            path: [value.keyFile ? "token" : "keyFile"],
            message:
              'set exactly one of "keyFile" (a private key) or "token" (a federated workload token)',
          });
        }
        for (const field of ["certFile", "kid", "alg"] as const) {
          if (value.token && value[field]) {
            ctx.addIssue({
              code: "custom",
              path: [field],
              message: `"${field}" belongs to a keyFile; a federated token is sent as it is: remove it`,
            });
          }
        }
      }),
    ),
  "private_key_jwt (RFC 7523): the client signs a short-lived assertion with its own key, or presents a workload token the IdP trusts, instead of sending a secret.",
  '{ "keyFile": "/etc/opencode/ci-bot.key.pem" }',
);
export type ClientAssertionOptions = z.output<typeof ClientAssertionSchema>;
