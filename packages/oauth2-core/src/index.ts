export * from "./config/index.js";
export * from "./engine.js";
export * from "./errors.js";
export { readSubjectToken } from "./flows/token-exchange.js";
export { isFresh, peekJwtClaims } from "./flows/token-response.js";
export * from "./log.js";
export type { PendingLogin } from "./login.js";
export { type BrowserOpener, openerCommand, systemBrowserOpener } from "./loopback/browser.js";
export {
  clearDiscoveryCache,
  clientConfiguration,
  type FetchLike,
  serverMetadata,
} from "./oidc/configuration.js";
export { toOAuth2Error } from "./oidc/protocol-errors.js";
export { DIR_MODE, ensurePrivateDir, FILE_MODE, writeFileAtomic } from "./store/atomic-file.js";
export { defaultCacheDir } from "./store/paths.js";
export * from "./store/token-store.js";
