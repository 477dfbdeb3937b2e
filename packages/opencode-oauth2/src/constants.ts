/**
 * What opencode stores and sees as a managed provider's API key: a marker, never a credential.
 * The plugin sets it at config time and returns it from a login; the CLI prints it for
 * opencode's auth.json (`login --print-key`). The real token stays in the shared cache.
 */
export const PLACEHOLDER_API_KEY = "oauth2-managed";
