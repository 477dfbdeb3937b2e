import { createSecureContext } from "node:tls";
import { TransportError } from "@vymalo/oauth2-core";

/**
 * A certificate file and a key file that must make a pair — the listener's (`listen.tls`) and
 * the gateway's client certificate to its model server (`upstream.tls`) — tried together at
 * start, so that a key that is not the certificate's (or that is encrypted) stops the start
 * naming both fields, and not as an OpenSSL code at the first connection.
 */
export function checkPair(
  block: "listen.tls" | "upstream.tls",
  files: { certFile: string; keyFile: string },
  pem: { cert: string; key: string },
): void {
  try {
    createSecureContext(pem);
  } catch (err) {
    throw new TransportError({
      kind: "tls_files_unreadable",
      url: undefined,
      message: `${block}.certFile ${files.certFile} and ${block}.keyFile ${files.keyFile} cannot be used together (${(err as Error).message}).`,
      fix: "point keyFile at the private key of certFile's certificate (the first certificate in certFile), not encrypted; openssl x509 -noout -pubkey -in <certFile> and openssl pkey -pubout -in <keyFile> must print the same key",
      cause: err,
    });
  }
}
