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

export async function readJsonBounded(
  response: Response,
  maxBytes: number = MAX_IDP_JSON_BYTES,
): Promise<unknown> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new AnswerTooLarge(`the answer is larger than ${maxBytes} bytes`);
  }
  const reader = response.body?.getReader();
  if (!reader) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new AnswerTooLarge(`the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}
