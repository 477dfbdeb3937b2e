/**
 * The request body limit (`listen.maxBodyBytes`). A declared Content-Length over the limit is
 * refused before a byte is read; a chunked body is counted while it streams to the upstream
 * and cut the moment it passes the limit — never buffered to be measured. Either way the client
 * gets 413.
 */

export class BodyTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the request body is larger than ${maxBytes} bytes`);
    this.name = "BodyTooLarge";
  }
}

/** Whether the request declares a body longer than `maxBytes`. */
export function declaresTooLarge(headers: Headers, maxBytes: number): boolean {
  const declared = headers.get("content-length");
  return declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes;
}

/**
 * `body`, passed through chunk by chunk; it errors with {@link BodyTooLarge} when more than
 * `maxBytes` arrive. The source is then left as it is (not cancelled), so the server can still
 * answer 413 on the same connection and drain what the client keeps sending.
 */
export function limitBody(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): { body: ReadableStream<Uint8Array>; exceeded: () => boolean } {
  const reader = body.getReader();
  let seen = 0;
  let exceeded = false;
  const limited = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      seen += value.byteLength;
      if (seen > maxBytes) {
        exceeded = true;
        reader.releaseLock();
        return controller.error(new BodyTooLarge(maxBytes));
      }
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { body: limited, exceeded: () => exceeded };
}
