import { X509Certificate } from "node:crypto";
import type { Server as HttpsServer } from "node:https";
import type { TlsOptions } from "node:tls";
import { readPem, withHelp } from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";
import { expected, nonEmpty } from "./config-fields.js";
import type { Logger } from "./log.js";
import { checkPair } from "./tls-pair.js";

/**
 * The gateway's own TLS listener (`listen.tls`): the server certificate and key, and whether
 * clients are asked for a certificate — what certificate-bound tokens (certificate-binding.ts)
 * are checked against. Without it the gateway speaks plain http, for a TLS-terminating proxy
 * in front of it. The files are read at start (and by `--check`) with the core's PEM reader,
 * so a missing, unreadable or non-PEM file is named with its field and the fix.
 */

export const CLIENT_CERTIFICATE_MODES = ["none", "request", "require"] as const;
export type ClientCertificateMode = (typeof CLIENT_CERTIFICATE_MODES)[number];

const pemPath = (description: string, example: string) =>
  withHelp(nonEmpty("a file path"), description, example);

export const ListenTlsSchema = withHelp(
  z
    .strictObject(
      {
        certFile: pemPath(
          "The server certificate (PEM), followed by its intermediate CAs.",
          '"/etc/opencode-gateway/tls.crt"',
        ),
        keyFile: pemPath(
          "The certificate's private key (PEM, not encrypted).",
          '"/etc/opencode-gateway/tls.key"',
        ),
        caFile: z.optional(
          pemPath(
            "The CAs that issue your clients' certificates (PEM): presented certificates are verified against them, and a client is told to pick one they signed.",
            '"/etc/opencode-gateway/client-ca.pem"',
          ),
        ),
        clientCertificate: withHelp(
          z._default(
            z.enum(CLIENT_CERTIFICATE_MODES, {
              error: `expected one of ${CLIENT_CERTIFICATE_MODES.map((m) => `"${m}"`).join(", ")}`,
            }),
            "none",
          ),
          '"none": no client certificate is asked for. "request": one is asked for, and a connection without one (or with one caFile did not sign) still gets through; certificate-bound tokens are checked against it. "require": the TLS handshake fails without a certificate caFile signed.',
          '"request"',
        ),
        reloadSec: withHelp(
          z._default(z.number().check(z.int(), z.gte(1)), 60),
          "How often the three files are read again: a renewed certificate (cert-manager, certbot) is used for new connections without a restart. SIGHUP reads them at once.",
          "60",
        ),
      },
      {
        error: expected(
          'an object, e.g. { "certFile": "/etc/opencode-gateway/tls.crt", "keyFile": "/etc/opencode-gateway/tls.key" }',
        ),
      },
    )
    .check(
      z.superRefine((tls, ctx) => {
        if (tls.clientCertificate === "require" && !tls.caFile) {
          ctx.addIssue({
            code: "custom",
            path: ["caFile"],
            message:
              'clientCertificate "require" verifies client certificates against caFile: set listen.tls.caFile to the PEM of the CAs that issue your clients\' certificates (or use "request")',
          });
        }
      }),
    ),
  "Serve https on the listener itself (no TLS-terminating proxy in front): needed to check certificate-bound tokens.",
  '{ "certFile": "/etc/opencode-gateway/tls.crt", "keyFile": "/etc/opencode-gateway/tls.key", "caFile": "/etc/opencode-gateway/client-ca.pem", "clientCertificate": "request" }',
);

export type ListenTls = z.output<typeof ListenTlsSchema>;

/** Whether the listener asks clients for a certificate (what binding checks need). */
export const asksForClientCertificates = (tls: ListenTls | undefined): boolean =>
  tls !== undefined && tls.clientCertificate !== "none";

/**
 * The options of the https server: the PEM files, read and tried together, so that a key that
 * is not the certificate's (or that is encrypted) fails here, naming both fields, and not as an
 * OpenSSL code at the first connection.
 */
export async function readListenTls(tls: ListenTls): Promise<TlsOptions> {
  const [cert, key, ca] = await Promise.all([
    readPem("listen.tls.certFile", tls.certFile),
    readPem("listen.tls.keyFile", tls.keyFile),
    tls.caFile ? readPem("listen.tls.caFile", tls.caFile) : undefined,
  ]);
  const options: TlsOptions = {
    cert,
    key,
    ...(ca ? { ca } : {}),
    requestCert: tls.clientCertificate !== "none",
    rejectUnauthorized: tls.clientCertificate === "require",
  };
  checkPair("listen.tls", tls, { cert, key });
  return options;
}

/**
 * Keeps the listener's certificate current without a restart: every `listen.tls.reloadSec`, and
 * when `check()` is called (SIGHUP), the files are read again. When they changed and still make
 * a usable pair, new connections get them (`setSecureContext`); open connections keep theirs.
 * Files caught in the middle of an update (a new certificate with the old key) are not used:
 * the certificate in use stays, the failure is logged, and the next check tries again.
 */
export function reloadListenTls(
  server: HttpsServer,
  tls: ListenTls,
  loaded: TlsOptions,
  logger: Logger,
): { check(): Promise<void>; stop(): void } {
  let current = loaded;
  let checking: Promise<void> | undefined;
  const check = () => {
    checking ??= (async () => {
      try {
        const next = await readListenTls(tls);
        if (next.cert === current.cert && next.key === current.key && next.ca === current.ca) {
          return;
        }
        server.setSecureContext(next);
        current = next;
        const certificate = new X509Certificate(String(next.cert));
        logger.emit("gateway_tls_reloaded", {
          certFile: tls.certFile,
          subject: certificate.subject.replace(/\n/g, ", "),
          validTo: new Date(certificate.validTo).toISOString(),
        });
      } catch (error) {
        logger.emit("gateway_tls_reload_failed", {
          certFile: tls.certFile,
          detail: (error as Error).message,
        });
      } finally {
        checking = undefined;
      }
    })();
    return checking;
  };
  const timer = setInterval(() => void check(), tls.reloadSec * 1000);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
