import { withHelp } from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";

/**
 * `certificateBinding` of the gateway config (config.ts): whether certificate-bound tokens are
 * checked against the client certificate of the connection (certificate-binding.ts does it).
 */

export const CERTIFICATE_BINDING_MODES = ["off", "when-bound", "require"] as const;
export type CertificateBinding = (typeof CERTIFICATE_BINDING_MODES)[number];

export const CertificateBindingSchema = withHelp(
  z.optional(
    z.enum(CERTIFICATE_BINDING_MODES, {
      error: `expected one of ${CERTIFICATE_BINDING_MODES.map((m) => `"${m}"`).join(", ")}`,
    }),
  ),
  'Certificate-bound tokens (RFC 8705, cnf x5t#S256), checked against the client certificate of the connection (listen.tls with clientCertificate "request" or "require"). "when-bound": a bound token passes only with its certificate, an unbound one as before. "require": unbound tokens are refused too. "off": cnf is not looked at. Default: "when-bound" when listen.tls asks for client certificates, else "off".',
  '"require"',
);

/** The mode a config gets when it names none. */
export const defaultCertificateBinding = (asksForCertificates: boolean): CertificateBinding =>
  asksForCertificates ? "when-bound" : "off";
