// "@vymalo/oauth2-core/protocol": helpers that speak to the IdP through openid-client (discovery,
// error translation, subject tokens). Kept off the main entry so that importing the engine,
// which is what a plugin does at every opencode start, does not load the protocol stack.

export { githubActionsRequest } from "./flows/github-actions-token.js";
export { authorizationRequestParams } from "./flows/grant-params.js";
export { revokeWithAccessToken } from "./flows/revocation.js";
export { readSubjectToken, tokenSourceOf } from "./flows/token-source.js";
export {
  basicEncodingChanges,
  OTHER_SECRET_METHOD,
  type RefusedClient,
  refusedClientFix,
} from "./oidc/client-refused.js";
export { clearDiscoveryCache, clientConfiguration, serverMetadata } from "./oidc/configuration.js";
export { excerptOf, readIdpAnswer, redactSecrets } from "./oidc/idp-answer.js";
export {
  clientOf,
  type ProtocolStep,
  STEP_ENDPOINT,
  toOAuth2Error,
} from "./oidc/protocol-errors.js";
