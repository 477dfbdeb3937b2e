import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { pipeline } from "node:stream";
import { ByteLimit } from "../body-limit.js";
import type { Logger } from "../log.js";
import type { Outcome } from "./hooks.js";
import { clientHeaders, type Upstream } from "./upstream.js";
import {
  answerInvalid,
  answerTimeout,
  answerTooLarge,
  answerUnreachable,
} from "./upstream-failure.js";
import type { DispatchHandler } from "./upstream-route.js";
import { JsonUsageReader, SseUsageTap } from "./usage.js";

/**
 * One call to the upstream and the relay of its answer, on undici's `dispatch` API (the
 * relay is the request's handler): the body goes up (whole when it was read, streamed through
 * the size limit otherwise), the status and headers come back at once, and the body is written
 * to the client chunk by chunk as it arrives — SSE events are never held; when the client reads
 * slower than the upstream sends, the upstream is paused until the client drains. When the
 * client goes away the upstream request is aborted, so the model server sees the abort and can
 * stop generating. A keep-alive connection the upstream closed while idle is retried once on a
 * fresh one when the body can be sent again.
 */

export interface RelayOptions {
  req: IncomingMessage;
  res: ServerResponse;
  upstream: Upstream;
  method: string;
  /** What follows `/v1` in the client's request-target. */
  rest: string;
  /** The upstream request's headers, a flat list (upstream.ts). */
  headers: readonly string[];
  /** The body read whole, `"stream"` to pipe the client's, or none. */
  body: Buffer | "stream" | undefined;
  /** Added to the answer's headers (the hooks' `RateLimit-*`). */
  extraHeaders: OutgoingHttpHeaders | undefined;
  /** Remove the usage-only SSE event the client did not ask for. */
  stripUsage: boolean;
  headersTimeoutMs: number;
  /** The longest pause between two chunks of the answer (not counting the client's own). */
  bodyTimeoutMs: number;
  maxBodyBytes: number;
  logger: Logger;
  path: string;
  settle: ((outcome: Outcome) => void) | undefined;
}

const isEventStream = (type: string | undefined) =>
  type?.trimStart().toLowerCase().startsWith("text/event-stream") ?? false;

/** The content type in undici's raw header list (bytes, names in any case). */
function contentType(raw: readonly Buffer[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as Buffer;
    if (name.length === 12 && name.toString("latin1").toLowerCase() === "content-type") {
      return (raw[i + 1] as Buffer).toString("latin1");
    }
  }
  return undefined;
}

/** What is done with the answer's bytes on their way to the client. */
enum Tap {
  None,
  /** SSE, looked at for usage. */
  Look,
  /** SSE, the usage-only event removed. */
  Strip,
  /** JSON, collected for its usage. */
  Json,
}

/** Errors of a kept-alive connection the upstream had closed before it read the request. */
const CLOSED_WHILE_IDLE = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);

export function relay(options: RelayOptions): void {
  new Relay(options).send();
}

class Relay implements DispatchHandler {
  readonly #o: RelayOptions;
  readonly #sent = performance.now();
  #abort: ((reason?: Error) => void) | undefined;
  /**
   * The wait for the answer's headers, timed here (`upstream.headersTimeoutMs`), from the
   * dispatch (a new connection and a proxy's tunnel included) until the headers come. Only a
   * streamed body leaves it to undici once its request is under way, because undici's timer
   * starts when the body is sent (a slow upload is not the model server's delay). Otherwise
   * undici times nothing: its timer for this would outlive the request by up to a second
   * (undici clears its coarse timers once per tick), one per request, which under load the
   * garbage collector moves to the old generation.
   */
  #waiting: NodeJS.Timeout | undefined;
  /**
   * The pause in the answer's body, timed here too (undici's body timer would linger as its
   * headers timer did): re-armed by each chunk, stopped while the client's buffer is full (that
   * pause is the client's) and when the answer ends.
   */
  #idle: NodeJS.Timeout | undefined;
  /** The answer's body is complete (or failed): nothing more comes from the model server. */
  #ended = false;
  #limit: ByteLimit | undefined;
  #settled = false;
  #retried = false;
  /** The client went away before the answer was done. */
  #gone = false;
  /** The answer's headers came (the attempt cannot be retried any more). */
  #answered = false;
  /** Handled here already (an answer the client cannot get): later errors are the abort's. */
  #over = false;
  /** The request went out on a connection an earlier request had used (see the static block). */
  #reused = false;

  /**
   * Which connection a request went out on: undici tells its handler nothing of it, but every
   * undici (Node's bundled one of each line, 6 to 8, and npm's) publishes the socket on the
   * diagnostics channel `undici:client:sendHeaders` as it writes a request, in the same call
   * that has just given the handler `onConnect`. So `onConnect` leaves its relay here and the
   * message that follows says whether that socket carried a request before. Where no message
   * comes, a request counts as on a new connection, and a failure is never sent twice.
   */
  static #connecting: Relay | undefined;
  static #used = new WeakSet<object>();
  static {
    subscribe("undici:client:sendHeaders", (message) => {
      const socket = (message as { socket?: object }).socket;
      if (!socket) return;
      const relay = Relay.#connecting;
      Relay.#connecting = undefined;
      if (relay) relay.#reused = Relay.#used.has(socket);
      Relay.#used.add(socket);
    });
  }
  #tap = Tap.None;
  /** Resumes the paused upstream; hooked to the client's `drain` on the first full buffer. */
  #resume: (() => void) | undefined;
  #draining = false;
  #sse: SseUsageTap | undefined;
  #json: JsonUsageReader | undefined;

  constructor(options: RelayOptions) {
    this.#o = options;
    // `on`, not `once`, for the events of this request's own objects: each comes once at most,
    // and `once` wraps every listener it adds.
    options.res.on("close", () => {
      if (options.res.writableFinished) return;
      this.#gone = true;
      clearTimeout(this.#waiting);
      clearTimeout(this.#idle);
      this.#abort?.();
      this.#finish(options.res.headersSent ? options.res.statusCode : 499, undefined, true);
    });
  }

  send(): void {
    const o = this.#o;
    let body: Buffer | ByteLimit | undefined;
    if (o.body === "stream") {
      const limit = new ByteLimit(o.maxBodyBytes);
      this.#limit = limit;
      // Too large or the client gone: `limit` fails, and so does the request (onError answers).
      pipeline(o.req, limit, () => {});
      body = limit;
    } else body = o.body;
    const streamed = o.body === "stream";
    o.upstream.dispatch(
      {
        method: o.method,
        rest: o.rest,
        headers: o.headers,
        body,
        // 0: undici does not time the wait, this relay does.
        headersTimeoutMs: streamed ? o.headersTimeoutMs : 0,
      },
      this,
    );
    // A streamed body on a connection already open is undici's to time (see #waiting).
    if (this.#settled || (streamed && this.#abort)) return;
    clearTimeout(this.#waiting);
    this.#waiting = setTimeout(() => this.#timedOut(), o.headersTimeoutMs);
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.#o.body === "stream") clearTimeout(this.#waiting);
    this.#abort = abort;
    if (this.#gone || this.#over) abort();
    else Relay.#connecting = this;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx (103 Early Hints): not relayed, the answer follows.
    if (status < 200) return true;
    clearTimeout(this.#waiting);
    this.#answered = true;
    const { res, settle, extraHeaders: extra } = this.#o;
    const sse = isEventStream(contentType(raw));
    const strip = this.#o.stripUsage && sse;
    // Removing the usage event changes the length; the hooks' headers replace the upstream's.
    const dropped = strip || extra ? new Set(strip ? ["content-length"] : []) : undefined;
    if (extra) for (const name in extra) dropped?.add(name.toLowerCase());
    try {
      const headers = clientHeaders(raw, dropped);
      if (extra) {
        for (const name in extra) {
          const value = extra[name];
          if (value !== undefined) headers.push(name, String(value));
        }
      }
      res.writeHead(status, statusText || undefined, headers);
    } catch (error) {
      // An answer Node refuses to relay (an invalid header): the client gets a 502.
      this.#over = true;
      this.#abort?.();
      this.#finish(answerInvalid(this.#o, error), undefined, false);
      return false;
    }
    if (settle && sse) {
      this.#sse = new SseUsageTap(strip);
      this.#tap = strip ? Tap.Strip : Tap.Look;
    } else if (settle) {
      this.#json = new JsonUsageReader();
      this.#tap = Tap.Json;
    }
    this.#resume = resume;
    if (settle) res.on("finish", () => this.#finish(status, this.#usage(), false));
    this.#idle = setTimeout(() => this.#stalled(), this.#o.bodyTimeoutMs);
    return true;
  }

  onData(chunk: Buffer): boolean {
    const { res } = this.#o;
    this.#idle?.refresh();
    switch (this.#tap) {
      case Tap.None:
        break;
      case Tap.Look:
        this.#sse?.look(chunk);
        break;
      case Tap.Json:
        this.#json?.add(chunk);
        break;
      case Tap.Strip: {
        const out = this.#sse?.look(chunk);
        return out && out.length > 0 ? this.#write(res, out) : true;
      }
    }
    return this.#write(res, chunk);
  }

  /** Writes to the client; false (the upstream pauses) until the client has drained. */
  #write(res: ServerResponse, chunk: Buffer): boolean {
    if (res.write(chunk)) return true;
    // The upstream is paused until the client drains: that wait is not the model server's.
    clearTimeout(this.#idle);
    if (!this.#draining && this.#resume) {
      this.#draining = true;
      res.on("drain", () => {
        if (this.#ended) return;
        this.#idle = setTimeout(() => this.#stalled(), this.#o.bodyTimeoutMs);
        this.#resume?.();
      });
    }
    return false;
  }

  onComplete(): void {
    this.#ended = true;
    clearTimeout(this.#idle);
    const held = this.#tap === Tap.Strip ? this.#sse?.rest() : undefined;
    this.#o.res.end(held);
  }

  onError(error: Error): void {
    const o = this.#o;
    const { res } = o;
    clearTimeout(this.#waiting);
    clearTimeout(this.#idle);
    if (this.#gone || this.#over) return;
    // A cut upstream answer cuts the client's: it must not look complete.
    if (res.headersSent) {
      this.#ended = true;
      res.destroy();
      return;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (this.#limit?.exceeded) {
      this.#finish(answerTooLarge(o), undefined, false);
      return;
    }
    if (code === "UND_ERR_HEADERS_TIMEOUT") {
      this.#timedOut();
      return;
    }
    if (
      this.#reused &&
      !this.#answered &&
      !this.#retried &&
      o.body !== "stream" &&
      code !== undefined &&
      CLOSED_WHILE_IDLE.has(code)
    ) {
      this.#retried = true;
      this.#abort = undefined;
      // Not from inside undici's own error handling: the next turn starts the new request.
      process.nextTick(() => {
        if (!this.#gone) this.send();
      });
      return;
    }
    this.#finish(answerUnreachable(o, error), undefined, false);
  }

  #timedOut(): void {
    const o = this.#o;
    // A request under way is aborted now; one still waiting for its connection is aborted
    // when it starts. Its error is not answered again.
    this.#over = true;
    this.#abort?.();
    this.#finish(answerTimeout(o), undefined, false);
  }

  /** Nothing came for `bodyTimeoutMs`: the model server is given up on, the client's answer cut. */
  #stalled(): void {
    const o = this.#o;
    this.#over = true;
    this.#ended = true;
    o.logger.emit("gateway_upstream_stalled", { path: o.path, timeoutMs: o.bodyTimeoutMs });
    this.#abort?.();
    // The headers are sent: an unfinished answer must not look complete.
    o.res.destroy();
  }

  #usage(): Outcome["usage"] {
    if (this.#tap === Tap.Json) return this.#json?.usage();
    return this.#sse?.usage;
  }

  #finish(status: number, usage: Outcome["usage"], aborted: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    const { settle } = this.#o;
    if (!settle) return;
    try {
      settle({ status, upstreamMs: Math.round(performance.now() - this.#sent), usage, aborted });
    } catch (error) {
      this.#o.logger.emit("gateway_internal_error", {
        path: this.#o.path,
        detail: `settle: ${String(error)}`,
      });
    }
  }
}
