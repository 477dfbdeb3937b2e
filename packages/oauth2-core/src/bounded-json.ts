/**
 * Reads a JSON answer from a remote party without letting it decide how much memory we spend:
 * a discovery document, an introspection answer or a `.well-known/opencode` manifest is a few
 * KiB, so anything past `maxBytes` (declared or streamed) is refused and the rest of the body is
 * never read. A body that is not JSON reads as undefined.
 */

/** Far above any real discovery document or introspection answer. */
export const MAX_IDP_JSON_BYTES = 256 * 1024;

export class AnswerTooLarge extends Error {
  override readonly name = "AnswerTooLarge";
}

/**
 * The body as text, refused with {@link AnswerTooLarge} once it passes `maxBytes` (declared or
 * streamed); the rest is never read.
 */
export async function readTextBounded(response: Response, maxBytes: number): Promise<string> {
  const tooLarge = () => new AnswerTooLarge(`the answer is larger than ${describeBytes(maxBytes)}`);
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function readJsonBounded(
  response: Response,
  maxBytes: number = MAX_IDP_JSON_BYTES,
): Promise<unknown> {
  const text = await readTextBounded(response, maxBytes);
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `8 MiB`, `256 KiB`, `100 bytes`: how limits read in messages. */
export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
