import type { IncomingMessage } from "node:http";
import type { KoaContextWithOIDC } from "oidc-provider";

/**
 * The Koa context seen by the kit's middlewares. They run in front of oidc-provider's own
 * router (`provider.use` inserts before it), so `ctx.oidc` only exists after `await next()`
 * and only for the OP's routes.
 */
export type KitContext = Omit<KoaContextWithOIDC, "oidc"> & {
  oidc?: KoaContextWithOIDC["oidc"];
};

export type KitMiddleware = (ctx: KitContext, next: () => Promise<unknown>) => Promise<void>;

const forms = new WeakMap<IncomingMessage, URLSearchParams>();

/**
 * Reads a POSTed `application/x-www-form-urlencoded` body once (cached per request) and hands
 * the raw bytes to oidc-provider through `req.body`: its body parser falls back to `req.body`
 * when the stream was already consumed (it prints a one-time "already parsed request body
 * detected" warning per process). Other requests yield an empty form and keep their stream.
 */
export async function readForm(ctx: KitContext): Promise<URLSearchParams> {
  const cached = forms.get(ctx.req);
  if (cached) return cached;
  if (ctx.method !== "POST" || !ctx.is("application/x-www-form-urlencoded")) {
    const empty = new URLSearchParams();
    forms.set(ctx.req, empty);
    return empty;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  }
  const raw = Buffer.concat(chunks);
  (ctx.req as IncomingMessage & { body?: Buffer }).body = raw;
  const form = new URLSearchParams(raw.toString("utf8"));
  forms.set(ctx.req, form);
  return form;
}

/**
 * Replaces a POSTed form before oidc-provider parses it (after `readForm`, which must have
 * consumed the stream already).
 */
export function rewriteForm(ctx: KitContext, form: URLSearchParams): void {
  (ctx.req as IncomingMessage & { body?: Buffer }).body = Buffer.from(form.toString(), "utf8");
  forms.set(ctx.req, form);
}

/** Decodes one half of an HTTP Basic credential as RFC 6749 §2.3.1 encodes it. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}

export interface PresentedClient {
  clientId: string | undefined;
  /** True when a secret came in an `Authorization: Basic` header or as `client_secret`. */
  secretPresented: boolean;
}

/** Which client a token-endpoint request claims to be, and whether it sent a secret. */
export function presentedClient(ctx: KitContext, form: URLSearchParams): PresentedClient {
  const header = ctx.get("authorization");
  const basic = /^basic\s+(.+)$/i.exec(header);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const id = colon === -1 ? decoded : decoded.slice(0, colon);
    const secret = colon === -1 ? "" : decoded.slice(colon + 1);
    return { clientId: formDecode(id), secretPresented: secret.length > 0 };
  }
  return {
    clientId: form.get("client_id") ?? undefined,
    secretPresented: (form.get("client_secret") ?? "").length > 0,
  };
}

/** Answers with an OAuth error body (`{ error, error_description }`), never cached. */
export function oauthError(
  ctx: KitContext,
  status: number,
  error: string,
  description: string,
): void {
  ctx.status = status;
  ctx.set("cache-control", "no-store");
  ctx.body = { error, error_description: description };
}

/** True for a request to exactly this path with this method. */
export function isRoute(ctx: KitContext, method: string, path: string): boolean {
  return ctx.method === method && ctx.path === path;
}

/**
 * Answers with the status alone — no body, no content type, no `WWW-Authenticate` — the way
 * some IdPs answer errors. Headers the OP (or Koa) already set are dropped.
 */
export function bareStatus(ctx: KitContext, status: number): void {
  ctx.respond = false;
  // An inner quirk may have answered already; a second answer would throw in the server.
  if (ctx.res.headersSent) return;
  for (const name of ctx.res.getHeaderNames()) ctx.res.removeHeader(name);
  ctx.res.writeHead(status, { "cache-control": "no-store", "content-length": "0" });
  ctx.res.end();
}
