import * as z from "zod/mini";

/**
 * What opencode reads from `<url>/.well-known/opencode` (`opencode auth login <url>`): the
 * command that logs the user in and prints a key on stdout, the env var name the key is stored
 * under, and a config layer merged below the user's own at every start.
 */
export const WellKnownManifestSchema = z.object({
  auth: z.optional(
    z.object({
      command: z
        .array(z.string().check(z.minLength(1)))
        .check(z.minLength(1, { error: "auth.command must name a program" })),
      env: z
        .string()
        .check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "auth.env must be an env var name" })),
    }),
  ),
  config: z._default(z.record(z.string(), z.unknown()), {}),
});
export type WellKnownManifest = z.infer<typeof WellKnownManifestSchema>;

/** `https://llm.example.com` → `https://llm.example.com/.well-known/opencode`. */
export function wellKnownUrl(base: string): string {
  return `${base.replace(/\/+$/, "")}/.well-known/opencode`;
}
