import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { certificateThumbprint } from "@vymalo/oauth2-core";
import type { CertificateBinding } from "./certificate-binding-config.js";
import { type Claims, type Rejection, rejection } from "./verify-token.js";

/**
 * Certificate-bound access tokens (RFC 8705 §3): an IdP that authenticated its client with a
 * certificate can bind the token to it, writing the certificate's SHA-256 thumbprint into
 * `cnf["x5t#S256"]` (a JWT claim, or a member of the RFC 7662 introspection answer, §3.2). A
 * stolen token is then of no use without the certificate's private key: the gateway lets it
 * through only on a TLS connection whose client presented that certificate.
 *
 * The check runs on every request, against that request's own connection, after the token's
 * verdict — which may be a remembered one (verdict-cache.ts, introspection-cache.ts): those are
 * keyed by the token alone, and must not carry a success over to another connection.
 */

/** The certificate the client presented on this connection: its thumbprint and subject. */
export interface PresentedCertificate {
  /** base64url of the SHA-256 of its DER: what `cnf["x5t#S256"]` holds. */
  thumbprint: string;
  subject: string;
}

/**
 * Read per request, not per connection: a TLS 1.2 client may renegotiate and present another
 * certificate on the same connection.
 */
export function presentedCertificate(socket: Socket | undefined): PresentedCertificate | undefined {
  const tls = socket as Partial<TLSSocket> | undefined;
  const certificate = tls?.getPeerX509Certificate?.();
  if (!certificate) return undefined;
  return {
    thumbprint: certificateThumbprint(certificate.raw),
    subject: certificate.subject.replaceAll("\n", ", "),
  };
}

/** The thumbprint a token is bound to: `cnf["x5t#S256"]`, or undefined for an unbound token. */
function boundThumbprint(claims: Claims): unknown {
  const cnf = claims.cnf;
  if (typeof cnf !== "object" || cnf === null) return undefined;
  return (cnf as Record<string, unknown>)["x5t#S256"];
}

/** A refused binding, with what the log says about the connection. */
export interface BindingRefusal {
  rejection: Rejection;
  /** The presented certificate's subject, when one was presented. */
  certificate: string | undefined;
}

/** Whether `claims` may be used on `socket` under `mode`; null when they may. */
export function checkCertificateBinding(
  mode: CertificateBinding,
  claims: Claims,
  socket: Socket | undefined,
): BindingRefusal | null {
  if (mode === "off") return null;
  const bound = boundThumbprint(claims);
  if (bound === undefined) {
    if (mode === "when-bound") return null;
    return {
      rejection: rejection(
        401,
        "token_not_bound",
        "this gateway accepts only certificate-bound tokens (RFC 8705): get a token with your client certificate from an IdP client that binds its tokens",
      ),
      certificate: presentedCertificate(socket)?.subject,
    };
  }
  const presented = presentedCertificate(socket);
  if (!presented) {
    return {
      rejection: rejection(
        401,
        "certificate_missing",
        "the token is bound to a client certificate (cnf x5t#S256): send it with that certificate",
      ),
      certificate: undefined,
    };
  }
  if (presented.thumbprint === bound) return null;
  return {
    rejection: rejection(
      401,
      "certificate_mismatch",
      "the token is bound to another client certificate than the one presented (cnf x5t#S256)",
    ),
    certificate: presented.subject,
  };
}
