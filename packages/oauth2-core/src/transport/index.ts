export {
  classifyFailure,
  TRANSPORT_EVENTS,
  TransportError,
  type TransportFailureKind,
} from "./failure.js";
export { outboundDispatcher, outboundFetch, type TransportOptions } from "./outbound.js";
export { type ProxyRoute, proxyFor, redactUrl } from "./proxy-env.js";
export { readPem, type TlsFiles, type TlsMaterial, tlsMaterial } from "./tls-material.js";
