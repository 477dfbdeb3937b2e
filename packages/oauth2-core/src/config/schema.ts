import * as z from "zod/mini";
import {
  type ClientAssertionOptions,
  ClientAssertionSchema,
  localPath,
  SubjectTokenSchema,
} from "./credentials.js";
import { withHelp } from "./field-help.js";
import { milliseconds, timerMs, wholeNumber } from "./numbers.js";
import { isSecureUrl, SECURE_URL_ERROR, splitList } from "./rules.js";

/**
 * The provider's oauth2 config: ONE zod schema. Its TypeScript types are inferred from it, both
 * config shapes are normalised into it (see opencode/collect.ts) and the help text of every
 * field lives here, registered in zod's global registry, where error messages read it. It is
 * written with zod/mini: opencode imports the plugins at every start, and mini's functions
 * tree-shake out of the bundled plugin entries, while classic zod's methods cannot.
 */

export const AUTH_FLOWS = [
  "authorization_code",
  "device_code",
  "client_credentials",
  "token_exchange",
  "jwt_bearer",
] as const;
export const INTERACTIVE_FLOWS = ["authorization_code", "device_code"] as const;
export const HEADLESS_FLOWS = ["client_credentials", "token_exchange", "jwt_bearer"] as const;

/** Where tokens are kept: the OS keyring, the 0600 token file, or the keyring when one answers. */
export const TOKEN_STORAGES = ["auto", "keyring", "file"] as const;
export type TokenStorage = (typeof TOKEN_STORAGES)[number];

export type AuthFlow = (typeof AUTH_FLOWS)[number];
export type InteractiveFlow = (typeof INTERACTIVE_FLOWS)[number];
export type HeadlessFlow = (typeof HEADLESS_FLOWS)[number];

export const isInteractiveFlow = (flow: AuthFlow): flow is InteractiveFlow =>
  (INTERACTIVE_FLOWS as readonly string[]).includes(flow);

const httpsUrl = (description: string, example: string) =>
  withHelp(
    z
      .string({ error: "expected a URL string" })
      .check(
        z.url({ error: "expected an absolute URL" }),
        z.refine(isSecureUrl, { error: SECURE_URL_ERROR }),
      ),
    description,
    example,
  );

const scopeList = z.pipe(
  z.union([z.array(z.string().check(z.minLength(1))), z.string()], {
    error:
      'expected an array of scopes or a space/comma separated string, e.g. "openid offline_access"',
  }),
  z.transform(splitList),
);

export const CLIENT_AUTH_METHODS = [
  "client_secret_basic",
  "client_secret_post",
  "client_secret_jwt",
  "private_key_jwt",
  "tls_client_auth",
  "self_signed_tls_client_auth",
] as const;

/** The methods whose credential is `clientSecret` (client_secret_jwt keys an HS256 assertion with it). */
export const SECRET_AUTH_METHODS = [
  "client_secret_basic",
  "client_secret_post",
  "client_secret_jwt",
] as const;
const isSecretAuth = (method: string | undefined): boolean =>
  (SECRET_AUTH_METHODS as readonly (string | undefined)[]).includes(method);

/** RFC 8705 client authentication: the client certificate of `tls` is the credential. */
export const TLS_CLIENT_AUTH_METHODS = ["tls_client_auth", "self_signed_tls_client_auth"] as const;
export const isTlsClientAuth = (method: string | undefined): boolean =>
  (TLS_CLIENT_AUTH_METHODS as readonly (string | undefined)[]).includes(method);

export const clientFields = {
  clientId: withHelp(
    z
      .string({ error: "expected the client id registered at the IdP (a string)" })
      .check(z.minLength(1, { error: "must not be empty" })),
    "The client id registered at the IdP.",
    '"opencode-cli"',
  ),
  clientSecret: withHelp(
    z.optional(
      z
        .string({ error: "expected a string" })
        .check(
          z.minLength(1, { error: "must not be empty; remove the field for a public client" }),
        ),
    ),
    "The client secret of a confidential client. Omit it for a public client.",
  ),
  clientType: withHelp(
    z.optional(
      z.enum(["public", "confidential"], { error: 'expected "public" or "confidential"' }),
    ),
    "Whether the client authenticates at the token endpoint. Default: confidential when clientSecret is set, otherwise public.",
    '"public"',
  ),
  clientAuthMethod: withHelp(
    z.optional(
      z.enum(CLIENT_AUTH_METHODS, { error: `expected one of ${CLIENT_AUTH_METHODS.join(", ")}` }),
    ),
    "How a confidential client authenticates: client_secret_basic, client_secret_post or client_secret_jwt (an HS256 assertion keyed with clientSecret), private_key_jwt (clientAssertion), tls_client_auth or self_signed_tls_client_auth (tls.certFile). Default: private_key_jwt with clientAssertion, else client_secret_basic.",
    '"client_secret_jwt"',
  ),
  clientAssertion: z.optional(ClientAssertionSchema),
};

export const ClientSchema = z.strictObject(clientFields);
export type ClientInput = z.input<typeof ClientSchema>;

export const EndpointsSchema = withHelp(
  z.strictObject({
    authorization: z.optional(
      httpsUrl("Authorization endpoint.", '"https://idp.example.com/authorize"'),
    ),
    token: z.optional(
      httpsUrl(
        "Token endpoint. When set, discovery is skipped.",
        '"https://idp.example.com/token"',
      ),
    ),
    deviceAuthorization: z.optional(
      httpsUrl("Device authorization endpoint (RFC 8628).", '"https://idp.example.com/device"'),
    ),
    revocation: z.optional(
      httpsUrl("Revocation endpoint (RFC 7009).", '"https://idp.example.com/revoke"'),
    ),
    jwks: z.optional(
      httpsUrl(
        "JWKS URI, needed to validate id_tokens without discovery.",
        '"https://idp.example.com/jwks"',
      ),
    ),
    userinfo: z.optional(httpsUrl("Userinfo endpoint.", '"https://idp.example.com/userinfo"')),
  }),
  "Endpoint overrides for IdPs without a discovery document; set `token` to skip discovery.",
);

/**
 * With endpoints.token set, discovery is skipped: the endpoint each login flow starts at must
 * then be configured too.
 */
const ENDPOINT_WITHOUT_DISCOVERY: Partial<Record<AuthFlow, keyof z.infer<typeof EndpointsSchema>>> =
  {
    authorization_code: "authorization",
    device_code: "deviceAuthorization",
  };

type ClientOutput = z.output<typeof ClientSchema>;

/** What a confidential client authenticates with: a secret or a private key. */
export const hasClientCredential = (
  client: Pick<ClientOutput, "clientSecret" | "clientAssertion" | "clientAuthMethod">,
) =>
  Boolean(
    client.clientSecret || client.clientAssertion || isTlsClientAuth(client.clientAuthMethod),
  );

/** The pairs of clientAuthMethod, clientSecret and clientAssertion that cannot work. */
function clientAuthIssues(
  client: ClientOutput,
  at: string[],
  ctx: { addIssue(issue: { code: "custom"; path: string[]; message: string }): void },
): void {
  const method = client.clientAuthMethod;
  const prefix = at.length ? `${at.join(".")}.` : "";
  const issue = (field: string, message: string) =>
    ctx.addIssue({ code: "custom", path: [...at, field], message });
  if (method === "private_key_jwt" && !client.clientAssertion) {
    issue(
      "clientAssertion",
      `private_key_jwt signs with a private key: set ${prefix}clientAssertion { "keyFile": … }`,
    );
  }
  if (method === "client_secret_jwt" && !client.clientSecret) {
    issue(
      "clientSecret",
      `client_secret_jwt signs its assertion with the client secret: set ${prefix}clientSecret to the secret the IdP issued, or choose another ${prefix}clientAuthMethod`,
    );
  }
  if (client.clientAssertion && isSecretAuth(method)) {
    issue(
      "clientAssertion",
      `${method} authenticates with the client secret, not a key: remove ${prefix}clientAssertion, or set ${prefix}clientAuthMethod "private_key_jwt"`,
    );
  }
  if (client.clientAssertion && client.clientType === "public") {
    issue(
      "clientAssertion",
      `a public client does not authenticate: remove ${prefix}clientAssertion, or set ${prefix}clientType "confidential"`,
    );
  }
  if (client.clientAssertion && client.clientSecret && !isSecretAuth(method)) {
    issue(
      "clientSecret",
      `with clientAssertion the client authenticates with private_key_jwt and never sends ${prefix}clientSecret: remove it`,
    );
  }
}

const pemFile = (description: string, example: string) =>
  z.optional(localPath(description, example));

export const TlsSchema = withHelp(
  z
    .strictObject({
      caFile: pemFile(
        "PEM bundle of CA certificates trusted for this provider's IdP, in addition to the system's and NODE_EXTRA_CA_CERTS: your organisation's root CA, or the CA of a TLS-inspecting proxy.",
        '"/etc/ssl/corp-root-ca.pem"',
      ),
      certFile: pemFile(
        "Client certificate (PEM) presented to the IdP (mutual TLS); needs keyFile. Required by tls_client_auth and self_signed_tls_client_auth.",
        '"/etc/opencode/client.crt.pem"',
      ),
      keyFile: pemFile(
        "Private key (PEM, unencrypted) of certFile. Read when a request is made, never logged.",
        '"/etc/opencode/client.key.pem"',
      ),
    })
    .check(
      z.refine((value) => Boolean(value.certFile) === Boolean(value.keyFile), {
        error: "set tls.certFile and tls.keyFile together (the certificate and its private key)",
      }),
    ),
  "TLS to the IdP: extra trusted CAs and a client certificate. Proxies come from HTTPS_PROXY/HTTP_PROXY/NO_PROXY.",
  '{ "caFile": "/etc/ssl/corp-root-ca.pem" }',
);
export type TlsOptions = z.output<typeof TlsSchema>;

export const ProviderOAuth2Schema = z
  .strictObject({
    issuer: httpsUrl(
      "The IdP's issuer URL, exactly as its discovery document states it.",
      '"https://login.example.com/realms/corp"',
    ),
    ...clientFields,
    interactiveClient: withHelp(
      z.optional(ClientSchema),
      "A second client used only by the interactive flows (authorization_code, device_code) — typically the public CLI client next to a confidential client used for client_credentials.",
      '{ "clientId": "opencode-cli" }',
    ),
    scopes: withHelp(
      z._default(scopeList, ["openid"]),
      "Scopes to request: an array or a space/comma separated string.",
      '"openid offline_access"',
    ),
    authFlow: withHelp(
      z._default(
        z.enum(AUTH_FLOWS, { error: `expected one of ${AUTH_FLOWS.join(", ")}` }),
        "authorization_code",
      ),
      "The grant used to log in (or, for client_credentials, token_exchange and jwt_bearer, to get a token without a user).",
      '"device_code"',
    ),
    headlessFlow: withHelp(
      z.optional(z.enum(HEADLESS_FLOWS, { error: `expected one of ${HEADLESS_FLOWS.join(", ")}` })),
      "A grant used without a user when no interactive login is possible (CI): client_credentials, token_exchange or jwt_bearer, with the top-level client.",
      '"client_credentials"',
    ),
    pkce: withHelp(
      z._default(z.boolean({ error: "expected true or false" }), true),
      "Send PKCE (S256) on authorization_code and device_code. Set false for IdPs that reject it.",
    ),
    audience: withHelp(
      z.optional(z.string().check(z.minLength(1))),
      "`audience` parameter sent to the IdP (Auth0 and others).",
      '"https://llm.example.com"',
    ),
    resource: withHelp(
      z.optional(
        z.pipe(
          z.union([z.url(), z.array(z.url())], { error: "expected a URL or an array of URLs" }),
          z.transform((value: string | string[]) => (Array.isArray(value) ? value : [value])),
        ),
      ),
      "RFC 8707 resource indicator(s).",
      '"https://llm.example.com"',
    ),
    redirectPort: withHelp(
      z.optional(wholeNumber("expected a port number").check(z.gte(1), z.lte(65535))),
      "Fixed loopback port for the browser callback (web clients need one). Default: a random free port.",
      "8765",
    ),
    redirectPath: withHelp(
      z._default(
        z.string().check(z.startsWith("/", { error: 'expected a path starting with "/"' })),
        "/callback",
      ),
      "Path of the loopback callback.",
      '"/callback"',
    ),
    endpoints: z.optional(EndpointsSchema),
    subjectToken: z.optional(SubjectTokenSchema),
    authorizationParams: withHelp(
      z.optional(
        z.record(z.string(), z.string(), { error: "expected an object of string values" }),
      ),
      "Extra parameters for the authorization request (e.g. prompt, login_hint).",
      '{ "prompt": "consent" }',
    ),
    httpTimeoutMs: withHelp(
      z._default(timerMs(100), 5000),
      "Timeout for each IdP request; also bounds how long opencode's start may wait.",
      "5000",
    ),
    tokenExpirySkewMs: withHelp(
      z._default(milliseconds(0), 60_000),
      "Refresh a token this long before it expires.",
      "60000",
    ),
    loginTimeoutMs: withHelp(
      z._default(timerMs(1000), 300_000),
      "How long an interactive login may take before it is abandoned.",
      "300000",
    ),
    tls: z.optional(TlsSchema),
    storage: withHelp(
      z._default(
        z.enum(TOKEN_STORAGES, { error: `expected one of ${TOKEN_STORAGES.join(", ")}` }),
        "auto",
      ),
      "Where the tokens are kept: keyring (the OS keyring), file (a 0600 file in the cache dir), or auto: the keyring when one answers, else the file.",
      '"keyring"',
    ),
  })
  .check(
    z.superRefine((cfg, ctx) => {
      const requireConfidential = (flow: string, field: "authFlow" | "headlessFlow") => {
        if (!hasClientCredential(cfg)) {
          ctx.addIssue({
            code: "custom",
            path: ["clientSecret"],
            message: `${field} "${flow}" needs a confidential client: set clientSecret (or clientAssertion for private_key_jwt)`,
          });
        }
      };
      clientAuthIssues(cfg, [], ctx);
      for (const [at, method] of [
        ["clientAuthMethod", cfg.clientAuthMethod],
        ["interactiveClient.clientAuthMethod", cfg.interactiveClient?.clientAuthMethod],
      ] as const) {
        if (isTlsClientAuth(method) && !cfg.tls?.certFile) {
          ctx.addIssue({
            code: "custom",
            path: ["tls", "certFile"],
            message: `${at} "${method}" authenticates with a client certificate: set tls.certFile and tls.keyFile`,
          });
        }
      }
      if (cfg.interactiveClient)
        clientAuthIssues(cfg.interactiveClient, ["interactiveClient"], ctx);
      if (cfg.clientType === "public" && cfg.clientSecret) {
        ctx.addIssue({
          code: "custom",
          path: ["clientSecret"],
          message:
            'a public client must not have a secret: remove clientSecret, or set clientType "confidential"',
        });
      }
      if (cfg.clientType === "confidential" && !hasClientCredential(cfg)) {
        ctx.addIssue({
          code: "custom",
          path: ["clientSecret"],
          message:
            "a confidential client needs clientSecret (or clientAssertion for private_key_jwt)",
        });
      }
      if (cfg.interactiveClient?.clientType === "public" && cfg.interactiveClient.clientSecret) {
        ctx.addIssue({
          code: "custom",
          path: ["interactiveClient", "clientSecret"],
          message: "a public client must not have a secret: remove interactiveClient.clientSecret",
        });
      }
      if (
        cfg.interactiveClient?.clientType === "confidential" &&
        !hasClientCredential(cfg.interactiveClient)
      ) {
        ctx.addIssue({
          code: "custom",
          path: ["interactiveClient", "clientSecret"],
          message: "a confidential client needs clientSecret: set interactiveClient.clientSecret",
        });
      }
      for (const [field, flow] of [
        ["authFlow", cfg.authFlow],
        ["headlessFlow", cfg.headlessFlow],
      ] as const) {
        if (flow === "client_credentials" || flow === "token_exchange")
          requireConfidential(flow, field);
        if ((flow === "token_exchange" || flow === "jwt_bearer") && !cfg.subjectToken) {
          ctx.addIssue({
            code: "custom",
            path: ["subjectToken"],
            message: `${flow} needs a ${flow === "jwt_bearer" ? "JWT assertion" : "subject token"}: set subjectToken { "file": … }, { "env": … } or { "source": "github-actions" | "kubernetes" }`,
          });
        }
      }
      const needed = cfg.endpoints?.token ? ENDPOINT_WITHOUT_DISCOVERY[cfg.authFlow] : undefined;
      if (needed && !cfg.endpoints?.[needed]) {
        ctx.addIssue({
          code: "custom",
          path: ["endpoints", needed],
          message: `discovery is skipped because endpoints.token is set, so ${cfg.authFlow} needs endpoints.${needed}`,
        });
      }
    }),
  );

export type ProviderOAuth2Input = z.input<typeof ProviderOAuth2Schema>;
export type ProviderOAuth2Options = z.output<typeof ProviderOAuth2Schema>;

/** A client as the engine uses it: its type and auth method resolved. */
export interface ResolvedClient {
  clientId: string;
  clientSecret?: string | undefined;
  type: "public" | "confidential";
  authMethod: "none" | (typeof CLIENT_AUTH_METHODS)[number];
  /** With private_key_jwt: where the key is; the key itself is read when a token is requested. */
  assertion?: ClientAssertionOptions | undefined;
}

export function resolveClient(input: ClientOutput): ResolvedClient {
  const type = input.clientType ?? (hasClientCredential(input) ? "confidential" : "public");
  const authMethod =
    type === "public"
      ? "none"
      : (input.clientAuthMethod ??
        (input.clientAssertion ? "private_key_jwt" : "client_secret_basic"));
  return {
    clientId: input.clientId,
    // A public client never sends a secret, whatever else the config says.
    clientSecret: type === "public" ? undefined : input.clientSecret,
    type,
    authMethod,
    assertion: authMethod === "private_key_jwt" ? input.clientAssertion : undefined,
  };
}

/** A validated provider, ready for the engine. */
export interface ProviderConfig extends ProviderOAuth2Options {
  /** The opencode provider id (`provider.<id>`). */
  id: string;
  /** Used by client_credentials, token_exchange, and by default every flow. */
  client: ResolvedClient;
  /** Used by authorization_code and device_code: `interactiveClient` when set, else `client`. */
  loginClient: ResolvedClient;
  /** The flow a user logs in with: `authFlow` when it is interactive; none when it needs no user. */
  loginFlow: InteractiveFlow | undefined;
  /**
   * The grant used without a user: `authFlow` when it is headless, else the configured
   * `headlessFlow` (the CI fallback of an interactive provider), else none.
   */
  headlessFlow: HeadlessFlow | undefined;
}

/** Resolves the clients and flows once, here, so no caller derives them again. */
export function toProviderConfig(id: string, options: ProviderOAuth2Options): ProviderConfig {
  const client = resolveClient(options);
  const loginClient = options.interactiveClient ? resolveClient(options.interactiveClient) : client;
  return {
    ...options,
    id,
    client,
    loginClient,
    loginFlow: isInteractiveFlow(options.authFlow) ? options.authFlow : undefined,
    headlessFlow: isInteractiveFlow(options.authFlow) ? options.headlessFlow : options.authFlow,
  };
}
