import {
  collectFromOpencodeConfig,
  isLoopbackHttp,
  manifestIssues,
  type ProviderConfig,
  parseWithMessages,
  readJsonBounded,
  WellKnownManifestSchema,
  wellKnownUrl,
} from "@vymalo/oauth2-core";
import { CliFailure, EXIT, UsageError } from "./errors.js";

/** A manifest is a few kB; anything near this is not one. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

/** https, or plain http on loopback: a manifest names the IdP the user logs in at. */
const acceptable = (url: string) => url.startsWith("https://") || isLoopbackHttp(url);

/**
 * The provider `id` as a `.well-known/opencode` manifest publishes it. This is how
 * `opencode auth login <url>` logs in: opencode runs the manifest's `auth.command`, which is
 * `opencode-oauth2 login <id> --well-known <url> --print-key`, before the manifest's config is
 * part of any local file. The manifest is remote input: it may publish a public client and an
 * interactive flow, nothing that makes this machine send its own secrets, files or environment
 * (the core's publishable rule, the one the gateway publishes by). A refusal names the field and
 * exits 64, like any other argument that cannot be used.
 */
export async function providerFromWellKnown(
  base: string,
  id: string,
  timeoutMs = 10_000,
): Promise<ProviderConfig> {
  let url: string;
  try {
    url = wellKnownUrl(new URL(base).href);
  } catch {
    throw new UsageError(
      `--well-known needs an absolute URL, e.g. https://llm.example.com (got "${base}")`,
    );
  }
  if (!acceptable(url)) {
    throw new UsageError(
      `--well-known needs an https:// URL (plain http only on loopback: 127.0.0.0/8, ::1, localhost); got "${base}"`,
    );
  }
  let body: unknown;
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: "application/json" },
    });
    if (!acceptable(response.url || url)) {
      throw new Error(`redirected to ${response.url}, which is not https`);
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = await readJsonBounded(response, MAX_MANIFEST_BYTES);
    if (body === undefined) throw new Error("the answer is not JSON");
  } catch (error) {
    throw new CliFailure(
      `could not load ${url} (${error instanceof Error ? error.message : String(error)}). Fix: check the URL and that the server is up.`,
    );
  }
  const manifest = WellKnownManifestSchema.safeParse(body, parseWithMessages);
  if (!manifest.success) {
    const first = manifest.error.issues[0];
    throw new CliFailure(
      `${url} is not an opencode manifest (${first?.path.join(".") || "body"}: ${first?.message}). Fix: ask the server's operator.`,
    );
  }
  const refused = manifestIssues(manifest.data.config).filter((i) => i.providerId === id);
  if (refused.length) {
    throw new CliFailure(
      `${url} sets what a manifest may not; nothing was sent:\n${refused.map((i) => `  ${i.message}`).join("\n")}`,
      EXIT.usage,
    );
  }
  const { providers, issues } = collectFromOpencodeConfig(manifest.data.config);
  const provider = providers[id];
  if (provider) return provider;
  const mine = issues.filter((i) => i.providerId === id);
  if (mine.length) throw new CliFailure(mine.map((i) => i.message).join("\n"));
  throw new UsageError(
    `${url} publishes no provider "${id}" with an oauth2 block (it has: ${Object.keys(providers).join(", ") || "none"}).`,
  );
}
