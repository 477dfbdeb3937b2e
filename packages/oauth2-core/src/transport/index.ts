export {
  classifyFailure,
  type FailureContext,
  looksClosedAfterHandshake,
  proxyRefusal,
  type TlsBlock,
  TRANSPORT_EVENTS,
  TransportError,
  type TransportFailureKind,
  unusableProxy,
} from "./failure.js";
export { type ClientCertificateInfo, inspectNetworkPath, type NetworkPath } from "./inspect.js";
export {
  diagnoseClosedConnection,
  nodeTlsOptions,
  outboundDispatcher,
  outboundFetch,
  platformFetch,
  type TransportOptions,
} from "./outbound.js";
export { type ProxyRoute, proxyFor, redactUrl } from "./proxy-env.js";
export {
  certificateThumbprint,
  hasTlsFiles,
  readPem,
  type TlsFiles,
  type TlsMaterial,
  tlsMaterial,
} from "./tls-material.js";
export type { TlsInspection } from "./tls-probe.js";
