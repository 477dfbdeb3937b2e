import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A certificate and its key, as PEM files in the CA's directory. */
export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
  /** The subject as oidc-provider's `tls_client_auth_subject_dn` compares it: `CN=…`. */
  readonly subject: string;
}

/**
 * The SHA-256 thumbprint of a certificate's DER (from its PEM, or the DER itself), base64url:
 * what a certificate-bound token's `cnf.x5t#S256` holds (RFC 8705 §3.1).
 */
export const thumbprint = (certificate: string | Buffer): string =>
  createHash("sha256")
    .update(typeof certificate === "string" ? new X509Certificate(certificate).raw : certificate)
    .digest("base64url");

export interface IssueOptions {
  /** Dates as openssl takes them (`YYYYMMDDHHMMSSZ`); default: valid from yesterday for 2 days. */
  readonly notBefore?: string;
  readonly notAfter?: string;
}

/** A private certificate authority made with the openssl CLI, in a temp directory. */
export interface TestCa {
  readonly dir: string;
  /** The CA's certificate (PEM): what a test sets as `tls.caFile`. */
  readonly caFile: string;
  readonly caCert: string;
  /** A server certificate for 127.0.0.1 and localhost. */
  issueServer(name?: string): Promise<IssuedCertificate>;
  /** A client certificate with subject `CN=<commonName>`. */
  issueClient(commonName: string, options?: IssueOptions): Promise<IssuedCertificate>;
  cleanup(): Promise<void>;
}

const day = 24 * 60 * 60 * 1000;
/** openssl's `YYYYMMDDHHMMSSZ`. */
export const opensslDate = (ms: number): string =>
  `${new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;

/** `openssl req` with a new EC P-256 key, unencrypted, written to `<name>.key`. */
const newKey = (name: string) => [
  "req",
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:P-256",
  "-nodes",
  "-keyout",
  `${name}.key`,
];

const CA_CONFIG = `[ca]
default_ca = kit
[kit]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
`;

/**
 * Creates a CA (EC P-256, so each certificate costs a few ms) whose certificates no system
 * trust store knows: a client reaches a server it signed only when told to trust `caFile`.
 * `openssl ca` signs, so a test can choose the validity dates (an expired client certificate).
 */
export async function createTestCa(name = "opencode-oauth2 test CA"): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), "test-ca-"));
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  await writeFile(join(dir, "ca.cnf"), CA_CONFIG);
  await writeFile(join(dir, "index.txt"), "");
  await writeFile(join(dir, "serial"), "1000\n");
  await openssl(
    ...newKey("ca"),
    "-x509",
    "-out",
    "ca.pem",
    "-days",
    "3",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  let count = 0;

  async function issue(
    commonName: string,
    extensions: string[],
    options: IssueOptions = {},
  ): Promise<IssuedCertificate> {
    count += 1;
    const base = `cert-${count}`;
    await openssl(
      ...newKey(base),
      "-new",
      "-out",
      `${base}.csr`,
      "-subj",
      `/CN=${commonName}`,
      ...extensions.flatMap((ext) => ["-addext", ext]),
    );
    await openssl(
      "ca",
      "-batch",
      "-config",
      "ca.cnf",
      "-cert",
      "ca.pem",
      "-keyfile",
      "ca.key",
      "-notext",
      "-in",
      `${base}.csr`,
      "-out",
      `${base}.pem`,
      "-startdate",
      options.notBefore ?? opensslDate(Date.now() - day),
      "-enddate",
      options.notAfter ?? opensslDate(Date.now() + 2 * day),
    );
    const certFile = join(dir, `${base}.pem`);
    const keyFile = join(dir, `${base}.key`);
    return {
      certFile,
      keyFile,
      cert: await readFile(certFile, "utf8"),
      key: await readFile(keyFile, "utf8"),
      subject: `CN=${commonName}`,
    };
  }

  return {
    dir,
    caFile: join(dir, "ca.pem"),
    caCert: await readFile(join(dir, "ca.pem"), "utf8"),
    issueServer: (serverName = "127.0.0.1") =>
      issue(serverName, [
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "extendedKeyUsage=serverAuth",
      ]),
    issueClient: (commonName, options) =>
      issue(commonName, ["extendedKeyUsage=clientAuth"], options),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
