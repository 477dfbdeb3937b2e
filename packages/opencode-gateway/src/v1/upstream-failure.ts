import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { TransportError } from "@vymalo/oauth2-core";
import { describeError } from "../error-cause.js";
import type { Logger } from "../log.js";
import { bodyTooLarge, openAiError, sendAnswer, sendJson } from "./respond.js";
import type { Upstream } from "./upstream.js";

/**
 * What the client gets, and the log says, when the upstream call fails before its answer
 * started: each function answers and returns the status it sent.
 */

/** The call that failed (the relay's options). */
interface Failing {
  res: ServerResponse;
  logger: Logger;
  path: string;
  method: string;
  upstream: Upstream;
  extraHeaders: OutgoingHttpHeaders | undefined;
  maxBodyBytes: number;
  headersTimeoutMs: number;
}

/** The body streamed to the upstream passed `listen.maxBodyBytes`. */
export function answerTooLarge(o: Failing): number {
  o.logger.emit("gateway_request_refused", {
    method: o.method,
    path: o.path,
    status: 413,
    reason: "body_too_large",
    maxBodyBytes: o.maxBodyBytes,
  });
  sendAnswer(o.res, bodyTooLarge(o.maxBodyBytes));
  return 413;
}

/** No connection, or no headers, within `upstream.headersTimeoutMs`. */
export function answerTimeout(o: Failing): number {
  o.logger.emit("gateway_upstream_timeout", { path: o.path, timeoutMs: o.headersTimeoutMs });
  sendJson(
    o.res,
    504,
    openAiError("the model server did not answer in time", "upstream_timeout"),
    o.extraHeaders,
  );
  return 504;
}

/** An answer Node refuses to relay (an invalid header). */
export function answerInvalid(o: Failing, error: unknown): number {
  o.logger.emit("gateway_upstream_unreachable", {
    path: o.path,
    upstream: o.upstream.origin,
    ...describeError(error),
  });
  sendJson(o.res, 502, openAiError("the model server answered badly", "upstream_invalid"));
  return 502;
}

/** The upstream, or the proxy on the way to it, could not be reached: 502 with the real cause. */
export function answerUnreachable(o: Failing, error: unknown): number {
  const failure = o.upstream.failure(error);
  const proxy = failure?.kind.startsWith("proxy_") ? failure : undefined;
  if (proxy) {
    o.logger.emit("gateway_upstream_proxy_failed", {
      path: o.path,
      upstream: o.upstream.origin,
      kind: proxy.kind,
      ...proxy.toLogFields(),
    });
    sendJson(
      o.res,
      502,
      openAiError(
        // The proxy's address and what it said stay in the log: a client of a public gateway
        // learns nothing about the network behind it.
        `the gateway could not reach the model server through its proxy (${proxy.code ?? proxy.kind})`,
        "upstream_proxy_failed",
      ),
      o.extraHeaders,
    );
    return 502;
  }
  const logged = (named: TransportError | undefined) =>
    o.logger.emit("gateway_upstream_unreachable", {
      path: o.path,
      upstream: o.upstream.origin,
      ...describeError(error),
      // A TLS failure (a certificate not trusted, a client certificate refused): what to set.
      ...(named ? { fix: named.fix } : {}),
    });
  // A connection closed right after the handshake is probed before it is logged (the answer
  // does not wait): a model server that wants a client certificate says so only that way.
  if (failure) logged(failure);
  else o.upstream.probe(error).then(logged, () => logged(undefined));
  sendJson(
    o.res,
    502,
    openAiError("the model server cannot be reached", "upstream_unreachable"),
    o.extraHeaders,
  );
  return 502;
}
