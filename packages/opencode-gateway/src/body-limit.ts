import type { IncomingMessage } from "node:http";
import { Transform, type TransformCallback } from "node:stream";

/**
 * The request body limit (`listen.maxBodyBytes`). A declared Content-Length over the limit is
 * refused before a byte is read. A JSON body is read whole (the request path reads its `model`)
 * and refused the moment it passes the limit; any other body is counted while it streams to the
 * upstream and cut the moment it passes the limit. Either way the client gets 413.
 */

export class BodyTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the request body is larger than ${maxBytes} bytes`);
    this.name = "BodyTooLarge";
  }
}

/** Whether a Content-Length value declares a body longer than `maxBytes`. */
export function declaresTooLarge(contentLength: string | null | undefined, maxBytes: number) {
  return (
    typeof contentLength === "string" &&
    /^\d+$/.test(contentLength.trim()) &&
    Number(contentLength) > maxBytes
  );
}

/** Whether the request carries a body (a non-zero length, or chunked). */
export function hasBody(request: IncomingMessage): boolean {
  const length = request.headers["content-length"];
  if (length !== undefined) return length.trim() !== "0";
  return request.headers["transfer-encoding"] !== undefined;
}

export type ReadBody = { body: Buffer } | { tooLarge: true } | { aborted: true };

/**
 * Reads the whole body, up to `maxBytes`, and calls `done` once with it. Past the limit, reading
 * stops (the rest is left to the server, which drains or closes the connection after the 413).
 */
export function readBody(
  request: IncomingMessage,
  maxBytes: number,
  done: (read: ReadBody) => void,
): void {
  const parts: Buffer[] = [];
  let size = 0;
  const onData = (part: Buffer) => {
    size += part.length;
    if (size > maxBytes) {
      cleanup();
      done({ tooLarge: true });
      return;
    }
    parts.push(part);
  };
  const onEnd = () => {
    cleanup();
    done({ body: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size) });
  };
  const onAborted = () => {
    cleanup();
    done({ aborted: true });
  };
  const cleanup = () => {
    request.off("data", onData);
    request.off("end", onEnd);
    request.off("error", onAborted);
    request.off("close", onAborted);
  };
  request.on("data", onData);
  request.on("end", onEnd);
  request.on("error", onAborted);
  request.on("close", onAborted);
}

/** Passes bytes through and errors with {@link BodyTooLarge} once more than `maxBytes` came. */
export class ByteLimit extends Transform {
  #seen = 0;
  exceeded = false;

  constructor(readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.maxBytes) {
      this.exceeded = true;
      done(new BodyTooLarge(this.maxBytes));
      return;
    }
    done(null, chunk);
  }
}
