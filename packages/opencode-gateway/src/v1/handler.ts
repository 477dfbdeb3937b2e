import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { type AuthOptions, authenticate, recallClaims } from "../auth.js";
import { declaresTooLarge, hasBody, readBody } from "../body-limit.js";
import { sendContinue } from "../expect-continue.js";
import { clientView, type Trust } from "../forwarded.js";
import type { Logger } from "../log.js";
import { hasEncodedDotOrSlash } from "../path-guard.js";
import type { Claims } from "../verify-token.js";
import { type Admission, isRefusal, type V1Call, type V1Hooks } from "./hooks.js";
import { type BodyFacts, isJsonType, readFacts, withIncludeUsage } from "./json-body.js";
import { relay } from "./relay.js";
import { bodyTooLarge, openAiError, sendAnswer, sendJson } from "./respond.js";
import type { Upstream } from "./upstream.js";

/**
 * The `/v1/*` request path, on Node's own request and response: refuse what needs no token
 * (encoded dots and slashes, a declared body over the limit), check the token, read a JSON
 * body's `model` and `stream`, ask the hooks, then forward to the upstream and relay its answer
 * as it arrives (relay.ts). Each step answers on its own when it refuses, so a refused request
 * never reaches the upstream. `gateway_request` is logged when the answer is done.
 *
 * The steps are plain functions that call the next: a request whose token is remembered, with no
 * hook that answers later, goes from the request to the upstream in one go, with no promise made
 * and no turn of the event loop waited for. Only a token to verify, a body to read and a hook's
 * answer are waited for.
 */

export interface V1Options {
  auth: AuthOptions;
  /** The upstream (resolved per request: the demo model's starts with the server). */
  upstream: () => Upstream;
  headersTimeoutMs: number;
  /** The longest pause in an answer's body before the model server is given up on. */
  bodyTimeoutMs: number;
  maxBodyBytes: number;
  trust: Trust;
  hooks: V1Hooks;
  logger: Logger;
}

const NO_FACTS: BodyFacts = {
  model: undefined,
  stream: false,
  includeUsage: false,
  parsed: undefined,
};

/** One request on its way through the steps; `auth` and `model` are filled in as they are known. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  target: string;
  path: string;
  /** `ok`, the refusal's reason, or `none` (answered before the token check). */
  auth: string;
  model: string | undefined;
}

/** The body as forwarded: read whole, piped from the client, or none. */
type Body = Buffer | "stream" | undefined;

export function createV1Handler(options: V1Options) {
  const { logger, hooks, maxBodyBytes } = options;
  // The body's `model` and `stream` are read only for a hook: a gateway with no access table,
  // quota or metrics parses no body (the upstream reads it anyway).
  const readsFacts = Boolean(hooks.admit || hooks.settle || hooks.observe || hooks.wantsUsage);

  const refuse = (request: { method: string; path?: string }, status: number, reason: string) =>
    logger.emit("gateway_request_refused", {
      ...request,
      status,
      reason,
      ...(status === 413 ? { maxBodyBytes } : {}),
    });

  /** A fault of the request path's own code: logged, and answered 500 when nothing was yet. */
  const failed = (req: IncomingMessage, res: ServerResponse, error: unknown) => {
    logger.emit("gateway_internal_error", { path: req.url ?? "", detail: String(error) });
    sendJson(res, 500, openAiError("internal error", "internal_error", "server_error"));
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    const method = req.method ?? "GET";
    const target = req.url ?? "/";
    if (hasEncodedDotOrSlash(target)) {
      refuse({ method }, 400, "encoded_path");
      sendJson(
        res,
        400,
        openAiError(
          "encoded dots and slashes (%2e, %2f, %5c) are not allowed in the path",
          "invalid_path",
          "invalid_request_error",
        ),
      );
      return;
    }
    const query = target.indexOf("?");
    const path = query === -1 ? target : target.slice(0, query);
    const x: Exchange = { req, res, method, target, path, auth: "none", model: undefined };
    res.on("close", () => {
      const status = res.writableFinished ? res.statusCode : 499;
      logger.emit("gateway_request", { method, path, status, ms: Date.now() - started });
      hooks.observe?.({ method, path, status, model: x.model, auth: x.auth });
    });
    if (declaresTooLarge(req.headers["content-length"], maxBodyBytes)) {
      refuse({ method, path }, 413, "body_too_large");
      sendAnswer(res, bodyTooLarge(maxBodyBytes));
      return;
    }
    const { authorization } = req.headers;
    const remembered = recallClaims(authorization, req.socket, options.auth);
    if (remembered) {
      x.auth = "ok";
      admitted(x, remembered);
      return;
    }
    authenticate(authorization, { method, path, socket: req.socket }, options.auth)
      .then((checked) => {
        if ("refusal" in checked) {
          x.auth = checked.reason;
          sendAnswer(res, checked.refusal);
        } else {
          x.auth = "ok";
          admitted(x, checked.claims);
        }
      })
      .catch((error: unknown) => failed(req, res, error));
  };

  /** The token holds: a JSON body is read whole (its facts, its length), any other is piped. */
  const admitted = (x: Exchange, claims: Claims): void => {
    const { req, res, method } = x;
    const withBody = method !== "GET" && method !== "HEAD" && hasBody(req);
    if (withBody) sendContinue(req, res);
    if (!withBody || !isJsonType(req.headers["content-type"])) {
      decide(x, claims, withBody ? "stream" : undefined);
      return;
    }
    readBody(req, maxBodyBytes, (read) => {
      if ("aborted" in read) return;
      if ("tooLarge" in read) {
        refuse({ method, path: x.path }, 413, "body_too_large");
        sendAnswer(res, bodyTooLarge(maxBodyBytes));
        return;
      }
      try {
        decide(x, claims, read.body);
      } catch (error) {
        failed(req, res, error);
      }
    });
  };

  /** What the hooks say about the call, when there is a hook to ask. */
  const decide = (x: Exchange, claims: Claims, body: Body): void => {
    const facts = readsFacts && Buffer.isBuffer(body) ? readFacts(body) : NO_FACTS;
    x.model = facts.model;
    const call = v1Call(claims, x.method, x.path, facts);
    if (!hooks.admit) {
      forward(x, call, body, facts, undefined);
      return;
    }
    Promise.resolve(hooks.admit(call))
      .then((decided) => {
        if (isRefusal(decided)) sendJson(x.res, decided.status, decided.body, decided.headers);
        else forward(x, call, body, facts, decided);
      })
      .catch((error: unknown) => failed(x.req, x.res, error));
  };

  const forward = (
    x: Exchange,
    call: V1Call,
    read: Body,
    facts: BodyFacts,
    admission: Admission | undefined,
  ): void => {
    const { req, res } = x;
    // The gateway asks a stream for its usage when it needs it; the client gets what it asked.
    const stripUsage = Boolean(
      hooks.wantsUsage && facts.stream && Buffer.isBuffer(read) && !facts.includeUsage,
    );
    const body = stripUsage && Buffer.isBuffer(read) ? withIncludeUsage(read, facts) : read;
    if (res.destroyed) return;

    const upstream = options.upstream();
    const declared = Number(req.headers["content-length"]);
    const headers = upstream.headers(
      req.rawHeaders,
      call.claims,
      clientView(
        req.socket.remoteAddress,
        req.headers,
        options.trust,
        (req.socket as TLSSocket).encrypted === true,
      ),
      Buffer.isBuffer(body)
        ? body.length
        : body === "stream" && Number.isInteger(declared)
          ? declared
          : undefined,
    );
    relay({
      req,
      res,
      upstream,
      method: x.method,
      rest: x.target.slice("/v1".length),
      headers,
      body,
      extraHeaders: admission?.headers as OutgoingHttpHeaders | undefined,
      stripUsage,
      headersTimeoutMs: options.headersTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs,
      maxBodyBytes,
      logger,
      path: x.path,
      settle: hooks.settle && ((outcome) => hooks.settle?.(call, outcome)),
    });
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    try {
      handle(req, res);
    } catch (error) {
      failed(req, res, error);
    }
  };
}

function v1Call(claims: Claims, method: string, route: string, facts: BodyFacts): V1Call {
  return {
    claims,
    subject: typeof claims.sub === "string" ? claims.sub : undefined,
    route,
    method,
    model: facts.model,
    stream: facts.stream,
  };
}

/**
 * Whether a request-target goes down the `/v1/*` request path: every path under `/v1` but the
 * gateway's own (`ownPaths`, answered by its Hono app).
 */
export function isProxied(target: string | undefined, ownPaths: ReadonlySet<string>): boolean {
  if (!target?.startsWith("/v1")) return false;
  const query = target.indexOf("?");
  const path = query === -1 ? target : target.slice(0, query);
  return (path === "/v1" || path.startsWith("/v1/")) && !ownPaths.has(path);
}
