// "@vymalo/oauth2-core/protocol": helpers that speak to the IdP through openid-client (discovery,
// error translation, subject tokens). Kept off the main entry so that importing the engine,
// which is what a plugin does at every opencode start, does not load the protocol stack.
export { readSubjectToken } from "./flows/token-exchange.js";
export { clearDiscoveryCache, clientConfiguration, serverMetadata } from "./oidc/configuration.js";
export { type ProtocolStep, toOAuth2Error } from "./oidc/protocol-errors.js";
