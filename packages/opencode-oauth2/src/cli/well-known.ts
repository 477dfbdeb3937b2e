import {
  collectFromOpencodeConfig,
  type ProviderConfig,
  parseWithMessages,
  WellKnownManifestSchema,
  wellKnownUrl,
} from "@vymalo/oauth2-core";
import { CliFailure, UsageError } from "./command.js";

/**
 * The provider `id` as a `.well-known/opencode` manifest publishes it. This is how
 * `opencode auth login <url>` logs in: opencode runs the manifest's `auth.command`, which is
 * `opencode-oauth2 login <id> --well-known <url> --print-key`, before the manifest's config is
 * part of any local file.
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
  let body: unknown;
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = await response.json();
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
  const { providers, issues } = collectFromOpencodeConfig(manifest.data.config);
  const provider = providers[id];
  if (provider) return provider;
  const mine = issues.filter((i) => i.providerId === id);
  if (mine.length) throw new CliFailure(mine.map((i) => i.message).join("\n"));
  throw new UsageError(
    `${url} publishes no provider "${id}" with an oauth2 block (it has: ${Object.keys(providers).join(", ") || "none"}).`,
  );
}
