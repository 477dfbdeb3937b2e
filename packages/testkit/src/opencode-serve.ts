import { startChild } from "./child.js";
import { freePort } from "./free-port.js";
import { opencodeBinPath } from "./opencode-binary.js";
import type { OpencodeHome } from "./opencode-home.js";

/** A free TCP port on 127.0.0.1 (free-port.ts; the name opencode tests know it by). */
export { freePort as getFreePort } from "./free-port.js";

export interface OpencodeServeOptions {
  /** Default: a free port (`opencode serve --port 0` would bind 4096). */
  port?: number;
  hostname?: string;
  /** How long to wait for the server to answer. Default 30 000 ms. */
  startTimeoutMs?: number;
  extraEnv?: Record<string, string>;
  /** More arguments after `serve --port … --hostname …`. */
  args?: string[];
}

export interface OpencodeServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  readonly client: OpencodeClient;
  stdout(): string;
  stderr(): string;
  /** SIGTERM to the process group, SIGKILL after 5 s; resolves when it has exited. */
  close(): Promise<void>;
}

/** Starts `opencode serve` in the isolated home and waits until `GET /global/health` answers. */
export async function startOpencodeServe(
  home: OpencodeHome,
  options: OpencodeServeOptions = {},
): Promise<OpencodeServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? (await freePort());
  const url = `http://${hostname}:${port}`;
  const running = startChild(
    opencodeBinPath(),
    ["serve", "--port", String(port), "--hostname", hostname, ...(options.args ?? [])],
    {
      cwd: home.projectDir,
      env: { ...home.env, ...options.extraEnv },
      processGroup: true,
    },
  );
  const { child } = running;
  const stdout = () => running.output().stdout;
  const stderr = () => running.output().stderr;
  let exited = false;
  const exitPromise = new Promise<void>((resolveExit) => {
    child.once("exit", () => {
      exited = true;
      resolveExit();
    });
    child.once("error", () => {
      exited = true;
      resolveExit();
    });
  });
  // A spawn error is seen through `exited`; `done` must not reject unhandled.
  running.done.catch(() => {});

  const close = async () => {
    if (!exited) {
      running.kill("SIGTERM");
      const hard = setTimeout(() => running.kill("SIGKILL"), 5_000);
      await exitPromise;
      clearTimeout(hard);
    }
    running.kill("SIGKILL");
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      throw new Error(
        `opencode serve exited before answering.\nstdout: ${stdout()}\nstderr: ${stderr()}`,
      );
    }
    try {
      // A request that arrives while the server boots can hang: keep each probe short.
      const res = await fetch(`${url}/global/health`, { signal: AbortSignal.timeout(1_500) });
      if (res.ok) {
        await res.arrayBuffer();
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(
        `opencode serve did not answer on ${url} in time.\nstdout: ${stdout()}\nstderr: ${stderr()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  return { url, port, pid: child.pid, client: opencodeClient(url), stdout, stderr, close };
}

export interface OpencodeModelRef {
  providerID: string;
  modelID: string;
}

export interface OpencodeMessageResult {
  /** The assistant message (`info.error` is set when the provider call failed). */
  info: Record<string, unknown>;
  parts: Array<Record<string, unknown>>;
  /** Concatenated text of the `type: "text"` parts. */
  text: string;
  /** `info.error`, when present. */
  error?: unknown;
}

export interface OpencodeClient {
  readonly url: string;
  health(): Promise<{ healthy: boolean; version: string }>;
  /** `POST /session` → the session (`id` starts with `ses`). */
  createSession(body?: Record<string, unknown>): Promise<{ id: string } & Record<string, unknown>>;
  /** `POST /session/:id/message`: sends a text prompt and waits for the assistant's answer. */
  sendMessage(
    sessionId: string,
    message: { text: string; model?: OpencodeModelRef; agent?: string },
    options?: { timeoutMs?: number },
  ): Promise<OpencodeMessageResult>;
  /** Creates a session and sends one prompt. */
  prompt(
    text: string,
    model?: OpencodeModelRef,
    options?: { timeoutMs?: number },
  ): Promise<OpencodeMessageResult & { sessionId: string }>;
  /** Any other endpoint (see `GET /doc` for the OpenAPI document). */
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options?: { timeoutMs?: number },
  ): Promise<T>;
}

/** A minimal client for the `opencode serve` HTTP API. */
export function opencodeClient(url: string): OpencodeClient {
  const base = url.replace(/\/+$/, "");
  const request = async <T>(
    method: string,
    path: string,
    body?: unknown,
    options: { timeoutMs?: number } = {},
  ): Promise<T> => {
    const init: RequestInit = {
      method,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      headers: body === undefined ? {} : { "content-type": "application/json" },
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 2000)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  const client: OpencodeClient = {
    url: base,
    health: () => request("GET", "/global/health"),
    createSession: (body = {}) => request("POST", "/session", body),
    async sendMessage(sessionId, message, options = {}) {
      const body: Record<string, unknown> = { parts: [{ type: "text", text: message.text }] };
      if (message.model) body.model = message.model;
      if (message.agent) body.agent = message.agent;
      const result = await request<{
        info: Record<string, unknown>;
        parts: Array<Record<string, unknown>>;
      }>("POST", `/session/${encodeURIComponent(sessionId)}/message`, body, {
        timeoutMs: options.timeoutMs ?? 90_000,
      });
      const text = result.parts
        .filter((p) => p.type === "text" && typeof p.text === "string")
        .map((p) => p.text as string)
        .join("");
      const out: OpencodeMessageResult = { info: result.info, parts: result.parts, text };
      if (result.info.error !== undefined) out.error = result.info.error;
      return out;
    },
    async prompt(text, model, options = {}) {
      const session = await client.createSession();
      const message: { text: string; model?: OpencodeModelRef } = { text };
      if (model) message.model = model;
      const result = await client.sendMessage(session.id, message, options);
      return { ...result, sessionId: session.id };
    },
    request: (method, path, body, options) => request(method, path, body, options),
  };
  return client;
}
