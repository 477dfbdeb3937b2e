/** What a model's entry in an OpenRouter-style `/models` document says about its size. */
export interface RouterModelSize {
  name: string;
  /** The context window, as `context_length` and the top provider's. */
  contextLength: number;
  /** The top provider's `max_completion_tokens`. */
  maxOutput: number;
}

/**
 * One entry of an OpenRouter-style `/models` document (what the models-info plugin reads):
 * the size fields as OpenRouter spells them, and `extra` (pricing, modalities, parameters…)
 * as given.
 */
export function routerModel(
  id: string,
  size: RouterModelSize,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    name: size.name,
    context_length: size.contextLength,
    top_provider: { context_length: size.contextLength, max_completion_tokens: size.maxOutput },
    ...extra,
  };
}
