export { wwwAuthenticate } from "./auth.js";
export { readBearer } from "./bearer.js";
export {
  ASYMMETRIC_ALGORITHMS,
  DEFAULT_ALGORITHMS,
  type GatewayConfig,
  type GatewayConfigInput,
  GatewayConfigSchema,
} from "./config.js";
export { applyEnvOverrides, ENV_OVERRIDES, loadConfig } from "./config-load.js";
export { type ConfigIssue, GatewayConfigError, parseConfig } from "./config-parse.js";
export { createDemoModel, DEMO_PREFIX, demoAnswer } from "./demo-model.js";
export { createIntrospector } from "./introspection.js";
export { type FetchLike, issuerKeySource, KeySourceUnavailable } from "./jwks.js";
export {
  GATEWAY_EVENTS,
  type GatewayEvent,
  jsonLogger,
  type Logger,
  silentLogger,
} from "./log.js";
export {
  buildManifest,
  defaultAuthEnv,
  gatewayVersion,
  type Manifest,
  MODELS_INFO_PACKAGE,
  OAUTH2_PACKAGE,
} from "./manifest.js";
export {
  buildModelsInfo,
  type ModelConfig,
  ModelSchema,
  toOpenRouterModel,
} from "./models-info.js";
export { createGateway, type Gateway, type GatewayDeps } from "./server.js";
export type {
  Admission,
  Outcome,
  Refusal,
  Usage,
  V1Call,
  V1Hooks,
} from "./v1/hooks.js";
export {
  type Claims,
  createTokenVerifier,
  policyFromConfig,
  type Rejection,
  type TokenPolicy,
  type Verdict,
} from "./verify-token.js";
