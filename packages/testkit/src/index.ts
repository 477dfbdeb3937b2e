export * from "./browser.js";
export * from "./child.js";
export { CookieJar } from "./cookie-jar.js";
export * from "./fake-llm.js";
export {
  type FederatedCredential,
  federatedClient,
  NO_FEDERATED_MATCH,
} from "./federated-client-auth.js";
export * from "./forward-proxy.js";
export * from "./free-port.js";
export * from "./github-oidc-stand-in.js";
export * from "./headless-provider.js";
export { type HtmlForm, parseForms } from "./html-forms.js";
export * from "./idp.js";
export type { IdpHttpsOptions } from "./idp-tls.js";
export * from "./keyring.js";
export * from "./line-worker.js";
export * from "./models-document.js";
export * from "./models-server.js";
export * from "./opencode-binary.js";
export * from "./opencode-home.js";
export * from "./opencode-output.js";
export * from "./opencode-run.js";
export * from "./opencode-serve.js";
export * from "./redis.js";
export * from "./registry.js";
export { tokenHash } from "./request-log.js";
export * from "./test-ca.js";
export * from "./workload-issuer.js";
