import * as z from "@vymalo/oauth2-core/zod";
import { CliFailure } from "../errors.js";
import type { IssuedToken } from "./issued-token.js";

/**
 * Kubernetes' client-go credential plugins (`users[].user.exec` in a kubeconfig): kubectl runs
 * the command, passes `KUBERNETES_EXEC_INFO` (an ExecCredential naming the apiVersion the
 * kubeconfig asked for) and reads an ExecCredential back from stdout. It caches the token until
 * `status.expirationTimestamp`, and runs the command again after that or on a 401.
 * https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
 */
export const EXEC_CREDENTIAL_API_VERSIONS = [
  "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1",
] as const;
export type ExecCredentialApiVersion = (typeof EXEC_CREDENTIAL_API_VERSIONS)[number];

/** What an old client that sets no KUBERNETES_EXEC_INFO speaks. */
const DEFAULT_API_VERSION: ExecCredentialApiVersion = "client.authentication.k8s.io/v1beta1";

const ExecInfoSchema = z.object({ apiVersion: z.string() });

const FIX = `set users[].user.exec.apiVersion in your kubeconfig to ${EXEC_CREDENTIAL_API_VERSIONS.join(" or ")}`;

const isKnown = (value: string): value is ExecCredentialApiVersion =>
  (EXEC_CREDENTIAL_API_VERSIONS as readonly string[]).includes(value);

/** The apiVersion kubectl asked for, read before any token is fetched; a clear error otherwise. */
export function requestedApiVersion(env: NodeJS.ProcessEnv): ExecCredentialApiVersion {
  const raw = env.KUBERNETES_EXEC_INFO;
  if (raw === undefined || raw === "") return DEFAULT_API_VERSION;
  let info: unknown;
  try {
    info = JSON.parse(raw);
  } catch {
    throw new CliFailure(`KUBERNETES_EXEC_INFO is not JSON. Fix: ${FIX}, and let kubectl set it.`);
  }
  const parsed = ExecInfoSchema.safeParse(info);
  if (!parsed.success) {
    throw new CliFailure(`KUBERNETES_EXEC_INFO names no apiVersion. Fix: ${FIX}.`);
  }
  const { apiVersion } = parsed.data;
  if (!isKnown(apiVersion)) {
    throw new CliFailure(
      `KUBERNETES_EXEC_INFO asks for an ExecCredential of apiVersion "${apiVersion}", which this command does not write. Fix: ${FIX}.`,
    );
  }
  return apiVersion;
}

/** RFC 3339 in UTC, whole seconds (rounded down: kubectl asks again no later than the expiry). */
const rfc3339 = (epochMs: number) => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The ExecCredential kubectl reads from stdout. */
export function execCredential(apiVersion: ExecCredentialApiVersion, token: IssuedToken): string {
  const status: Record<string, string> = { token: token.accessToken };
  if (token.expiresAt !== undefined) status.expirationTimestamp = rfc3339(token.expiresAt);
  return JSON.stringify({ apiVersion, kind: "ExecCredential", spec: {}, status }, null, 2);
}
