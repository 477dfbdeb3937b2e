import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * The smallest Kubernetes API server kubectl will talk to: HTTPS on 127.0.0.1 with a
 * self-signed certificate (kubectl sends no credentials to an http:// server, so a plain HTTP
 * stand-in would test nothing), answering `/version` and `/api`, and recording the
 * Authorization header of every request.
 */
export interface KubeApi {
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** The PEM certificate, for the kubeconfig's `certificate-authority-data`. */
  certificate: string;
  requests: Array<{ path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

export async function startKubeApi(dir: string): Promise<KubeApi> {
  const key = join(dir, "kube-api.key");
  const cert = join(dir, "kube-api.crt");
  await promisify(execFile)("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ...["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
    ...["-addext", "subjectAltName=IP:127.0.0.1"],
  ]);
  const certificate = await readFile(cert, "utf8");
  const requests: KubeApi["requests"] = [];
  const server = createServer({ key: await readFile(key), cert: certificate }, (req, res) => {
    const path = new URL(req.url ?? "/", "https://127.0.0.1").pathname;
    requests.push({ path, authorization: req.headers.authorization });
    res.setHeader("content-type", "application/json");
    if (path === "/version") {
      res.end(JSON.stringify({ major: "1", minor: "32", gitVersion: "v1.32.4" }));
    } else if (path === "/api") {
      res.end(JSON.stringify({ kind: "APIVersions", versions: ["v1"] }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: "Status", status: "Failure", code: 404 }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server: `https://127.0.0.1:${port}`,
    certificate,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A kubeconfig whose one user gets its token from `command args…` (client-go's exec plugin). */
export function kubeconfig(
  api: KubeApi,
  apiVersion: string,
  command: string,
  args: string[],
): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "corp",
        cluster: {
          server: api.server,
          "certificate-authority-data": Buffer.from(api.certificate).toString("base64"),
        },
      },
    ],
    users: [
      {
        name: "corp-user",
        user: {
          exec: { apiVersion, command, args, interactiveMode: "Never", provideClusterInfo: false },
        },
      },
    ],
    contexts: [{ name: "corp", context: { cluster: "corp", user: "corp-user" } }],
    "current-context": "corp",
  });
}
