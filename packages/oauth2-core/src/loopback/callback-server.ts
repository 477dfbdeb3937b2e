import { timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OAuth2Error } from "../errors.js";
import { loginTimeoutError } from "./login-timeout.js";

export interface CallbackServerOptions {
  providerId: string;
  /** Fixed port (`redirectPort`); 0 or undefined picks a free one. */
  port?: number | undefined;
  path: string;
  timeoutMs: number;
  /** The `state` of the authorization request: a callback without it is not ours. */
  state: string;
  signal?: AbortSignal | undefined;
  /** A request on the callback path carried another (or no) state and was ignored. */
  onIgnored?: ((info: { stateSent: boolean }) => void) | undefined;
}

export interface CallbackServer {
  /** `http://127.0.0.1:<port><path>` — the redirect_uri to register in the request. */
  redirectUri: string;
  /** Resolves with the full callback URL of the first request on `path`. */
  callback: Promise<URL>;
  close(): void;
}

const page = (title: string, body: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${body}</p></body>`;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const NOT_OURS = page(
  "This is not the login you started",
  "This page did not come from the login in progress, so it was ignored. If you are logging in, finish it in the tab the login opened; otherwise close this tab.",
);

function sameState(received: string | null, expected: string): boolean {
  if (received === null) return false;
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The loopback redirect listener of RFC 8252 §7.3: bound to 127.0.0.1 only, accepts exactly one
 * callback on `path` — the one that carries the login's `state` — answers the browser with a
 * short page, then closes. Any other local process (or a web page, with a fixed `redirectPort`)
 * can reach this port: a request with another state gets a neutral page and the listener keeps
 * waiting, so it can neither end the login nor be told "Login complete". Closes on timeout or
 * abort too, so a login that is never finished leaves nothing listening.
 */
export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  let settle!: { resolve: (url: URL) => void; reject: (err: Error) => void };
  const callback = new Promise<URL>((resolve, reject) => {
    settle = { resolve, reject };
  });
  callback.catch(() => {});
  let done = false;
  let ignored = 0;

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (done || req.method !== "GET" || url.pathname !== options.path) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not found");
      return;
    }
    if (!sameState(url.searchParams.get("state"), options.state)) {
      ignored += 1;
      options.onIgnored?.({ stateSent: url.searchParams.has("state") });
      res
        .writeHead(400, { "content-type": "text/html; charset=utf-8", connection: "close" })
        .end(NOT_OURS);
      return;
    }
    done = true;
    const error = url.searchParams.get("error");
    const html = error
      ? page(
          "Login failed",
          `The identity provider answered <code>${escapeHtml(error)}</code>. You can close this tab and return to the terminal.`,
        )
      : page("Login complete", "You can close this tab and return to the terminal.");
    res
      .writeHead(error ? 400 : 200, {
        "content-type": "text/html; charset=utf-8",
        connection: "close",
      })
      .end(html);
    const port = (server.address() as AddressInfo).port;
    settle.resolve(new URL(`http://127.0.0.1:${port}${req.url ?? "/"}`));
    finish();
  });

  const timer = setTimeout(() => {
    settle.reject(
      loginTimeoutError({
        providerId: options.providerId,
        timeoutMs: options.timeoutMs,
        redirectUri: redirectUriOf(server, options.path),
        fixedPort: Boolean(options.port),
        ignored,
      }),
    );
    finish();
  }, options.timeoutMs);
  timer.unref();

  const onAbort = () => {
    settle.reject(
      new OAuth2Error({
        code: "login_aborted",
        providerId: options.providerId,
        message: "the browser login was cancelled.",
        fix: "start the login again",
      }),
    );
    finish();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });

  function finish() {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    server.close();
    server.closeAllConnections?.();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      finish();
      reject(
        new OAuth2Error({
          code: "loopback_failed",
          providerId: options.providerId,
          message: `could not listen on 127.0.0.1:${options.port ?? 0} for the login callback (${err.code ?? err.message}).`,
          fix:
            err.code === "EADDRINUSE"
              ? "free that port or change redirectPort"
              : "check local firewall/sandbox rules for loopback listeners",
        }),
      );
    });
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  return {
    redirectUri: redirectUriOf(server, options.path),
    callback,
    close() {
      if (!done) {
        done = true;
        onAbort();
      }
    },
  };
}

function redirectUriOf(server: Server, path: string): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
}
