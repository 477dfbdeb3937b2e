// "@vymalo/oauth2-core": what a user embedding the token engine, and the sibling packages (the
// opencode plugins, the CLI, the gateway), need. Curated by hand: a name is added here when one
// of them imports it, so the core's helpers stay private (its own tests import them from their
// modules); a module is re-exported whole only when it is itself such a list (transport/).
// The protocol helpers are on "./protocol", the zod functions on "./zod", the token command's
// warm path on "./warm".
export {
  AnswerTooLarge,
  describeBytes,
  MAX_IDP_JSON_BYTES,
  readJsonBounded,
  readTextBounded,
} from "./bounded-json.js";
export {
  ASSERTION_ALGS,
  type AssertionAlg,
  type ClientAssertionOptions,
  ClientAssertionSchema,
  KUBERNETES_TOKEN_FILE,
  type SubjectTokenOptions,
  SubjectTokenSchema,
  TOKEN_SOURCES,
  type TokenSourceKind,
} from "./config/credentials.js";
export {
  type FieldHelp,
  type FieldIssue,
  fieldHelp,
  fieldNamesAt,
  helpAt,
  withHelp,
} from "./config/field-help.js";
export { isRecord, type JsonObject } from "./config/json.js";
export { parseWithMessages } from "./config/messages.js";
export { parseProviderConfig } from "./config/parse.js";
export {
  ASYMMETRIC_JWS_ALGORITHMS,
  isLoopbackHttp,
  isSecureUrl,
  SECURE_URL_ERROR,
  splitList,
} from "./config/rules.js";
export {
  AUTH_FLOWS,
  type AuthFlow,
  CLIENT_AUTH_METHODS,
  hasClientCredential,
  type InteractiveFlow,
  isInteractiveFlow,
  isTlsClientAuth,
  type ProviderConfig,
  type ProviderOAuth2Input,
  type ProviderOAuth2Options,
  ProviderOAuth2Schema,
  type ResolvedClient,
  TLS_CLIENT_AUTH_METHODS,
  type TlsOptions,
  TlsSchema,
  TOKEN_STORAGES,
  type TokenStorage,
} from "./config/schema.js";
export type { EnsureResult, LoginRequiredReason, TokenSource } from "./engine/context.js";
export type { LogoutResult } from "./engine/forget.js";
export type { EnsureOptions, LoginPrompter, StartedLogin } from "./engine/interactive.js";
export { type EngineOptions, TokenEngine } from "./engine.js";
export {
  describeIdpAnswer,
  endpointLabel,
  type IdpAnswer,
  type IdpEndpoint,
  type IdpErrorDetail,
  isOAuth2Error,
  loginCommand,
  OAuth2Error,
  type OAuth2ErrorCode,
} from "./errors.js";
export type { FetchLike } from "./fetch.js";
export type { RevocationOutcome } from "./flows/revocation.js";
export { peekJwtClaims } from "./flows/token-response.js";
export {
  CORE_EVENTS,
  type CoreEvent,
  type CreateLoggerOptions,
  createLogger,
  type EventCatalogue,
  type EventOf,
  fingerprint,
  type Logger,
  type LogLevel,
  type LogRecord,
  type LogSink,
  silentLogger,
  stderrSink,
} from "./log.js";
// The registry of every log event holds nothing internal: all of it is public interface.
export * from "./log-events.js";
export type { PendingLogin } from "./login.js";
export type { BrowserOpener } from "./loopback/browser.js";
export {
  type CollectedProviders,
  collectFromOpencodeConfig,
  findOAuth2PluginOptions,
  type OpencodeConfigLike,
} from "./opencode/collect.js";
export {
  type ConfigFileProblem,
  type LocalConfig,
  type LocalConfigOptions,
  loadLocalConfig,
} from "./opencode/local-sources.js";
export { type AppLogClient, opencodeSink, pluginLogLevel } from "./opencode/log.js";
export { loginHint } from "./opencode/login-hint.js";
export {
  manifestIssues,
  type UnpublishableField,
  unpublishableFields,
} from "./opencode/publishable.js";
export { collectManagedProviders, type LocalConfigSource } from "./opencode/remote-fields.js";
export {
  type WellKnownManifest,
  WellKnownManifestSchema,
  wellKnownUrl,
} from "./opencode/well-known.js";
export { writeFileAtomic } from "./store/atomic-file.js";
export { KEYRING_SERVICE } from "./store/keyring-tokens.js";
export { defaultCacheDir } from "./store/paths.js";
export {
  bindingFor,
  type StoredToken,
  type TokenBinding,
  type TokenLocation,
  type TokenMetadata,
} from "./store/stored-token.js";
export { type ReadResult, TokenStore, type TokenStoreOptions } from "./store/token-store.js";
export * from "./transport/index.js";
