import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { memoizeUntilRejected } from "../shared-promises.js";
import { type TlsBlock, TransportError } from "./failure.js";

/** A `tls` block, as the transport reads it. */
export interface TlsFiles {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** Default `tls` (a provider's). */
  readonly block?: TlsBlock | undefined;
}

/** The PEM text of the files, read once per process per set of paths. */
export interface TlsMaterial {
  /** The caFile's certificates (not the defaults: each runtime adds those its own way). */
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
}

type TlsField =
  | `${TlsBlock}.caFile`
  | `${TlsBlock}.certFile`
  | `${TlsBlock}.keyFile`
  | "NODE_EXTRA_CA_CERTS"
  // the gateway's own TLS listener (its server certificate, and the CAs of client certificates)
  | "listen.tls.caFile"
  | "listen.tls.certFile"
  | "listen.tls.keyFile";

const EXPECTED: Record<TlsField, { marker: RegExp; what: string }> = {
  "tls.caFile": { marker: /-----BEGIN CERTIFICATE-----/, what: "PEM certificates" },
  "tls.certFile": { marker: /-----BEGIN CERTIFICATE-----/, what: "PEM certificate" },
  "tls.keyFile": { marker: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: "PEM private key" },
  NODE_EXTRA_CA_CERTS: { marker: /-----BEGIN CERTIFICATE-----/, what: "PEM certificates" },
  "listen.tls.caFile": { marker: /-----BEGIN CERTIFICATE-----/, what: "PEM certificates" },
  "listen.tls.certFile": { marker: /-----BEGIN CERTIFICATE-----/, what: "PEM certificate" },
  "listen.tls.keyFile": { marker: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: "PEM private key" },
  // the gateway's link to its model server: the server's CA, the gateway's client certificate
  "upstream.tls.caFile": { marker: /-----BEGIN CERTIFICATE-----/, what: "PEM certificates" },
  "upstream.tls.certFile": { marker: /-----BEGIN CERTIFICATE-----/, what: "PEM certificate" },
  "upstream.tls.keyFile": { marker: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: "PEM private key" },
};

/** Reads one PEM file; a missing or wrong file is an error naming the field, the path and the fix. */
export async function readPem(field: TlsField, path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new TransportError({
      kind: "tls_files_unreadable",
      url: undefined,
      message: `${field} ${path} cannot be read (${code}).`,
      fix: `point ${field} at a readable file, or remove it`,
      cause: err,
    });
  }
  const expected = EXPECTED[field];
  if (!expected.marker.test(text)) {
    throw new TransportError({
      kind: "tls_files_unreadable",
      url: undefined,
      message: `${field} ${path} holds no ${expected.what}.`,
      fix: `${field} must be a PEM file (text starting with "-----BEGIN …"); convert a DER or PKCS#12 file with openssl`,
    });
  }
  return text;
}

const cache = new Map<string, Promise<TlsMaterial>>();

/**
 * A block's PEM files, read once per process (a failure is not kept: fixing the file and
 * retrying works without a restart). An unreadable or wrong file is named by its field in the
 * block's config (`tls.certFile`, `upstream.tls.caFile`…).
 */
export function tlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const block = files.block ?? "tls";
  const key = JSON.stringify([block, files.caFile, files.certFile, files.keyFile]);
  return memoizeUntilRejected(cache, key, async () => ({
    ca: files.caFile ? await readPem(`${block}.caFile`, files.caFile) : undefined,
    cert: files.certFile ? await readPem(`${block}.certFile`, files.certFile) : undefined,
    key: files.keyFile ? await readPem(`${block}.keyFile`, files.keyFile) : undefined,
  }));
}

/** Whether the block asks for anything the runtime's default fetch does not do. */
export function hasTlsFiles(files: TlsFiles | undefined): files is TlsFiles {
  return Boolean(files?.caFile || files?.certFile || files?.keyFile);
}

/**
 * A certificate's thumbprint as JOSE and RFC 8705 name it: the base64url hash of its DER, SHA-1
 * for `x5t`, SHA-256 for `x5t#S256` (what a certificate-bound token's `cnf` holds).
 */
export const certificateThumbprint = (der: Buffer, hash: "sha1" | "sha256" = "sha256"): string =>
  createHash(hash).update(der).digest("base64url");
