import type {
  ClientRequest,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import { pipeline } from "node:stream";
import { ByteLimit } from "../body-limit.js";
import { describeError } from "../error-cause.js";
import type { Logger } from "../log.js";
import type { Outcome } from "./hooks.js";
import { bodyTooLarge, openAiError, sendAnswer, sendJson } from "./respond.js";
import { clientHeaders, type Upstream } from "./upstream.js";
import { JsonUsageReader, SseUsageTap } from "./usage.js";

/**
 * One call to the upstream and the relay of its answer: the body goes up (whole when it was
 * read, streamed through the size limit otherwise), the status and headers come back at once,
 * and the body is piped to the client chunk by chunk as it arrives — SSE events are never
 * held. When the client goes away the upstream request is destroyed, so the model server sees
 * the abort and can stop generating. A keep-alive connection the upstream closed while idle is
 * retried once on a fresh one when the body can be sent again.
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
  maxBodyBytes: number;
  logger: Logger;
  path: string;
  settle: ((outcome: Outcome) => void) | undefined;
}

const isEventStream = (type: string | undefined) =>
  type?.trimStart().toLowerCase().startsWith("text/event-stream") ?? false;

export function relay(options: RelayOptions): void {
  const { req, res, upstream, logger, path, settle } = options;
  const sent = performance.now();
  let outgoing: ClientRequest | undefined;
  let settled = false;
  let retried = false;
  let gone = false;
  let timer: NodeJS.Timeout | undefined;

  const finish = (status: number, usage: Outcome["usage"], aborted: boolean) => {
    if (settled) return;
    settled = true;
    if (!settle) return;
    try {
      settle({ status, upstreamMs: Math.round(performance.now() - sent), usage, aborted });
    } catch (error) {
      logger.emit("gateway_internal_error", { path, detail: `settle: ${String(error)}` });
    }
  };
  const clientGone = () => gone;
  // `on`, not `once`, for the events of this request's own objects: each comes once at most, and
  // `once` wraps every listener it adds.
  res.on("close", () => {
    clearTimeout(timer);
    if (res.writableFinished) return;
    gone = true;
    outgoing?.destroy();
    finish(res.headersSent ? res.statusCode : 499, undefined, true);
  });

  const attempt = () => {
    let timedOut = false;
    const request = upstream.request(options.method, options.rest, options.headers);
    outgoing = request;
    timer = setTimeout(() => {
      timedOut = true;
      request.destroy(new Error(`no answer within ${options.headersTimeoutMs} ms`));
    }, options.headersTimeoutMs);
    let limit: ByteLimit | undefined;

    request.on("response", (answer) => {
      clearTimeout(timer);
      try {
        answerWith(answer);
      } catch (error) {
        // An answer Node refuses to relay (an invalid header): the client gets a 502.
        answer.destroy();
        logger.emit("gateway_upstream_unreachable", {
          path,
          upstream: upstream.origin,
          ...describeError(error),
        });
        sendJson(res, 502, openAiError("the model server answered badly", "upstream_invalid"));
        finish(502, undefined, false);
      }
    });
    // `on`, not `once`: a socket may fail again after the first error or the answer.
    request.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (clientGone()) return;
      if (res.headersSent) return;
      if (limit?.exceeded) {
        logger.emit("gateway_request_refused", {
          method: options.method,
          path,
          status: 413,
          reason: "body_too_large",
          maxBodyBytes: options.maxBodyBytes,
        });
        sendAnswer(res, bodyTooLarge(options.maxBodyBytes));
        return finish(413, undefined, false);
      }
      if (timedOut) {
        logger.emit("gateway_upstream_timeout", { path, timeoutMs: options.headersTimeoutMs });
        sendJson(
          res,
          504,
          openAiError("the model server did not answer in time", "upstream_timeout"),
          options.extraHeaders,
        );
        return finish(504, undefined, false);
      }
      if (request.reusedSocket && error.code === "ECONNRESET" && !retried && replayable()) {
        retried = true;
        return attempt();
      }
      const proxy = upstream.proxyFailure(error);
      if (proxy) {
        logger.emit("gateway_upstream_proxy_failed", {
          path,
          upstream: upstream.origin,
          kind: proxy.kind,
          ...proxy.toLogFields(),
        });
        sendJson(
          res,
          502,
          openAiError(
            // The proxy's address and what it said stay in the log: a client of a public
            // gateway learns nothing about the network behind it.
            `the gateway could not reach the model server through its proxy (${proxy.code ?? proxy.kind})`,
            "upstream_proxy_failed",
          ),
          options.extraHeaders,
        );
        return finish(502, undefined, false);
      }
      logger.emit("gateway_upstream_unreachable", {
        path,
        upstream: upstream.origin,
        ...describeError(error),
      });
      sendJson(
        res,
        502,
        openAiError("the model server cannot be reached", "upstream_unreachable"),
        options.extraHeaders,
      );
      finish(502, undefined, false);
    });

    if (options.body === "stream") {
      limit = new ByteLimit(options.maxBodyBytes);
      // On an error (too large, client gone) the pipeline destroys `request`: its error handler
      // above answers.
      pipeline(req, limit, request, () => {});
    } else request.end(options.body);
  };
  const replayable = () => options.body !== "stream";

  const answerWith = (answer: IncomingMessage) => {
    const status = answer.statusCode ?? 502;
    const sse = isEventStream(answer.headers["content-type"]);
    const strip = options.stripUsage && sse;
    const extra = options.extraHeaders;
    // Removing the usage event changes the length; the hooks' headers replace the upstream's.
    const dropped = strip || extra ? new Set(strip ? ["content-length"] : []) : undefined;
    if (extra) for (const name in extra) dropped?.add(name.toLowerCase());
    const headers = clientHeaders(answer.rawHeaders, dropped);
    if (extra) {
      for (const name in extra) {
        const value = extra[name];
        if (value !== undefined) headers.push(name, String(value));
      }
    }
    res.writeHead(status, answer.statusMessage || undefined, headers);
    // A cut upstream answer cuts the client's (it must not look complete); a client that goes
    // away destroys the upstream request (the close handler above).
    answer.on("aborted", () => res.destroy());
    answer.on("error", () => res.destroy());
    let usage: () => Outcome["usage"] = () => undefined;
    if (settle && sse) {
      const tap = new SseUsageTap(strip);
      usage = () => tap.usage;
      if (strip) {
        answer.pipe(tap).pipe(res);
        res.on("finish", () => finish(status, usage(), false));
        return;
      }
      answer.on("data", (chunk: Buffer) => tap.look(chunk));
    } else if (settle) {
      const reader = new JsonUsageReader();
      usage = () => reader.usage();
      answer.on("data", (chunk: Buffer) => reader.add(chunk));
    }
    // pipe, not pipeline: pipeline makes an AbortController per call and a DOMException when it
    // ends, a cost on every request; the handlers here do what it would.
    answer.pipe(res);
    res.on("finish", () => finish(status, usage(), false));
  };

  attempt();
}
