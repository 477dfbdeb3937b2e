/** What a binding compares by; the one shape both the store and the warm path read. */
export interface BindingFields {
  issuer: string;
  clientId: string;
  scopes: string[];
  audience?: string | undefined;
  resource?: string[] | undefined;
}

/**
 * A binding as one string: equal strings, equal bindings (scopes and resources in any order).
 * Free of zod, so the warm `token` path can compare bindings without loading the schemas.
 */
export function bindingKey(binding: BindingFields): string {
  return JSON.stringify([
    binding.issuer,
    binding.clientId,
    [...binding.scopes].sort(),
    binding.audience ?? null,
    [...(binding.resource ?? [])].sort(),
  ]);
}
