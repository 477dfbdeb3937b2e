import type { X509Certificate } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { TLSSocket } from "node:tls";
import type { Configuration, KoaContextWithOIDC } from "oidc-provider";
import type { IssuedCertificate, TestCa } from "./test-ca.js";

/**
 * The IdP over https, with a server certificate from a test CA that no trust store knows, so a
 * client reaches it only through `tls.caFile` (or NODE_EXTRA_CA_CERTS).
 */
export interface IdpHttpsOptions {
  readonly ca: TestCa;
  /** The server's certificate; default one the CA issues for 127.0.0.1. */
  readonly server?: IssuedCertificate;
  /**
   * `"required"`: the TLS handshake fails without a certificate from `ca` (what an IdP behind
   * an mTLS-only gateway does). `"optional"` (default): one is asked for and, when sent, is
   * what oidc-provider's mTLS client authentication and certificate-bound tokens read.
   */
  readonly clientCertificate?: "required" | "optional";
}

/** A plain http server, or an https one that asks for client certificates. */
export async function createIdpServer(https: IdpHttpsOptions | undefined): Promise<Server> {
  if (!https) return createHttpServer();
  const server = https.server ?? (await https.ca.issueServer());
  return createHttpsServer({
    key: server.key,
    // The whole chain, as most servers send it: an untrusting client then sees the classic
    // "self-signed certificate in certificate chain" of a TLS-inspecting proxy.
    cert: `${server.cert}${https.ca.caCert}`,
    ca: https.ca.caCert,
    requestCert: true,
    rejectUnauthorized: https.clientCertificate === "required",
  }) as unknown as Server;
}

function peerCertificate(ctx: KoaContextWithOIDC): X509Certificate | undefined {
  const socket = ctx.req.socket as TLSSocket;
  if (typeof socket.getPeerX509Certificate !== "function") return undefined;
  return socket.getPeerX509Certificate();
}

/** `CN=a\nO=b` (Node) and `CN=a,O=b` (RFC 4514, as clients register it) compare equal. */
const normaliseDn = (dn: string) =>
  dn
    .split(/[\n,]/)
    .map((part) => part.trim())
    .filter(Boolean)
    .sort()
    .join(",");

/**
 * oidc-provider's mTLS feature (RFC 8705), reading the certificate the TLS socket verified:
 * `tls_client_auth` (subject DN, CA-verified), `self_signed_tls_client_auth` (registered key)
 * and certificate-bound access tokens (`cnf.x5t#S256`).
 */
export function mtlsConfiguration(): Pick<Configuration, "clientAuthMethods"> & {
  mTLS: NonNullable<NonNullable<Configuration["features"]>["mTLS"]>;
} {
  return {
    clientAuthMethods: [
      "client_secret_basic",
      "client_secret_post",
      "client_secret_jwt",
      "private_key_jwt",
      "none",
      "tls_client_auth",
      "self_signed_tls_client_auth",
    ],
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      tlsClientAuth: true,
      selfSignedTlsClientAuth: true,
      getCertificate: (ctx) => peerCertificate(ctx),
      certificateAuthorized: (ctx) => (ctx.req.socket as TLSSocket).authorized === true,
      certificateSubjectMatches: (ctx, property, expected) => {
        const certificate = peerCertificate(ctx);
        if (!certificate || property !== "tls_client_auth_subject_dn") return false;
        return normaliseDn(certificate.subject) === normaliseDn(expected);
      },
    },
  };
}
