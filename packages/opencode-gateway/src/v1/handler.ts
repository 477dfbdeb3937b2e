import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { type AuthOptions, authenticate } from "../auth.js";
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
 */

export interface V1Options {
  auth: AuthOptions;
  /** The upstream (resolved per request: the demo model's starts with the server). */
  upstream: () => Upstream;
  headersTimeoutMs: number;
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

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const method = req.method ?? "GET";
    const target = req.url ?? "/";
    if (hasEncodedDotOrSlash(target)) {
      refuse({ method }, 400, "encoded_path");
      return sendJson(
        res,
        400,
        openAiError(
          "encoded dots and slashes (%2e, %2f, %5c) are not allowed in the path",
          "invalid_path",
          "invalid_request_error",
        ),
      );
    }
    const query = target.indexOf("?");
    const path = query === -1 ? target : target.slice(0, query);
    let auth = "none";
    let model: string | undefined;
    res.once("close", () => {
      const status = res.writableFinished ? res.statusCode : 499;
      logger.emit("gateway_request", { method, path, status, ms: Date.now() - started });
      hooks.observe?.({ method, path, status, model, auth });
    });
    if (declaresTooLarge(req.headers["content-length"], maxBodyBytes)) {
      refuse({ method, path }, 413, "body_too_large");
      return sendAnswer(res, bodyTooLarge(maxBodyBytes));
    }
    const checked = await authenticate(
      req.headers.authorization,
      { method, path, socket: req.socket },
      options.auth,
    );
    auth = "refusal" in checked ? checked.reason : "ok";
    if ("refusal" in checked) return sendAnswer(res, checked.refusal);

    let body: Buffer | undefined;
    let facts = NO_FACTS;
    const withBody = method !== "GET" && method !== "HEAD" && hasBody(req);
    if (withBody) sendContinue(req, res);
    if (withBody && isJsonType(req.headers["content-type"])) {
      const read = await readBody(req, maxBodyBytes);
      if ("aborted" in read) return;
      if ("tooLarge" in read) {
        refuse({ method, path }, 413, "body_too_large");
        return sendAnswer(res, bodyTooLarge(maxBodyBytes));
      }
      body = read.body;
      if (readsFacts) facts = readFacts(body);
      model = facts.model;
    }
    const call = v1Call(checked.claims, method, path, facts);
    let admission: Admission | undefined;
    if (hooks.admit) {
      const decided = await hooks.admit(call);
      if (isRefusal(decided)) return sendJson(res, decided.status, decided.body, decided.headers);
      admission = decided;
    }
    // The gateway asks a stream for its usage when it needs it; the client gets what it asked.
    const stripUsage = Boolean(hooks.wantsUsage && facts.stream && body && !facts.includeUsage);
    if (stripUsage && body) body = withIncludeUsage(body, facts);
    if (res.destroyed) return;

    const upstream = options.upstream();
    const declared = Number(req.headers["content-length"]);
    const headers = upstream.headers(
      req.headers,
      call.claims,
      clientView(
        req.socket.remoteAddress,
        req.headers,
        options.trust,
        (req.socket as TLSSocket).encrypted === true,
      ),
      body ? body.length : withBody && Number.isInteger(declared) ? declared : undefined,
    );
    relay({
      req,
      res,
      upstream,
      method,
      rest: target.slice("/v1".length),
      headers,
      body: body ?? (withBody ? "stream" : undefined),
      extraHeaders: admission?.headers as OutgoingHttpHeaders | undefined,
      stripUsage,
      headersTimeoutMs: options.headersTimeoutMs,
      maxBodyBytes,
      logger,
      path,
      settle: hooks.settle && ((outcome) => hooks.settle?.(call, outcome)),
    });
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      logger.emit("gateway_internal_error", { path: req.url ?? "", detail: String(error) });
      sendJson(res, 500, openAiError("internal error", "internal_error", "server_error"));
    });
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
