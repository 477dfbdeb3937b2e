import { stat } from "node:fs/promises";
import { createServer } from "node:net";
import {
  loginCommand,
  type ProviderConfig,
  type ReadResult,
  type TokenEngine,
  TokenStore,
} from "@vymalo/oauth2-core";
import { formatExpiry } from "../human-time.js";
import { identityOf } from "../identity.js";
import { error, type Finding, ok, warn } from "./finding.js";

const DIR_MODE = 0o700;
const octal = (mode: number) => `0${mode.toString(8).padStart(3, "0")}`;
const checksModes = process.platform !== "win32";

/** The token directory: private to this user (0700). */
export async function checkCacheDir(engine: TokenEngine): Promise<Finding[]> {
  const dir = engine.store.dir;
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(dir);
  } catch {
    return [
      ok("token cache", `${dir} does not exist yet (created with mode 0700 at the first login)`),
    ];
  }
  if (!checksModes) return [ok("token cache", dir)];
  const findings: Finding[] = [];
  const mode = info.mode & 0o777;
  if (mode !== DIR_MODE) {
    findings.push(
      error(
        "token cache",
        `${dir} has mode ${octal(mode)}; other users may list or read your tokens.`,
        `chmod 700 '${dir}'`,
      ),
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    findings.push(
      error(
        "token cache",
        `${dir} belongs to user id ${info.uid}, not to you (${uid}).`,
        `chown -R ${uid} '${dir}'`,
      ),
    );
  }
  return findings.length ? findings : [ok("token cache", `${dir} (mode 0700)`)];
}

/** The provider's token file (0600) and what the cache holds for it. */
export async function checkCachedToken(
  engine: TokenEngine,
  provider: ProviderConfig,
  read: ReadResult,
  now: number,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const file = engine.store.pathFor(provider.id);
  const mode = await engine.store.mode(provider.id);
  if (checksModes && mode !== undefined && mode !== TokenStore.expectedFileMode) {
    findings.push(
      error(
        "token file",
        `${file} has mode ${octal(mode)}; other users may read your tokens.`,
        `chmod 600 '${file}'`,
      ),
    );
  }
  const headless = provider.headlessFlow !== undefined;
  if (read.kind === "foreign") {
    const { issuer, clientId } = read.token.binding;
    findings.push(
      warn(
        "cached token",
        `the cached token was issued to client "${clientId}" by ${issuer}, which the current config no longer uses; it is never sent.`,
        `log in again: ${loginCommand(provider.id)}`,
      ),
    );
  } else if (read.kind === "absent") {
    findings.push(
      headless
        ? ok("cached token", `none yet; ${provider.headlessFlow} mints one on demand`)
        : warn("cached token", "not logged in.", `log in: ${loginCommand(provider.id)}`),
    );
  } else {
    const { token } = read;
    const expired = token.expiresAt !== undefined && token.expiresAt <= now;
    const who = identityOf(token);
    const facts = `${who ? `as ${who}, ` : ""}access token ${formatExpiry(token.expiresAt, now)}, ${token.refreshToken ? "refresh token stored" : "no refresh token"}`;
    findings.push(
      expired && !token.refreshToken && !headless
        ? warn("cached token", `logged in ${facts}.`, `log in again: ${loginCommand(provider.id)}`)
        : ok("cached token", `logged in ${facts}`),
    );
  }
  return findings;
}

function tryListen(port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) => resolve(err));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(undefined)));
  });
}

/** The loopback callback port of the browser login: free, and not privileged. */
export async function checkRedirectPort(provider: ProviderConfig): Promise<Finding[]> {
  const port = provider.redirectPort;
  const check = "redirect port";
  if (port === undefined) {
    return [
      ok(
        check,
        `a free port is picked per login (redirect URI http://127.0.0.1:<port>${provider.redirectPath}; the IdP must allow any loopback port, RFC 8252)`,
      ),
    ];
  }
  const uri = `http://127.0.0.1:${port}${provider.redirectPath}`;
  const findings: Finding[] = [];
  if (port < 1024) {
    findings.push(
      warn(
        check,
        `redirectPort ${port} is a privileged port: only root may listen on it on most systems.`,
        `choose a port from 1024 up, and register http://127.0.0.1:<port>${provider.redirectPath} at the IdP`,
      ),
    );
  }
  const failure = await tryListen(port);
  if (failure?.code === "EADDRINUSE") {
    findings.push(
      error(
        check,
        `127.0.0.1:${port} is already in use, so the login callback cannot be received.`,
        "stop the program listening there, or change redirectPort (and the redirect URI registered at the IdP)",
      ),
    );
  } else if (failure) {
    findings.push(
      error(
        check,
        `cannot listen on 127.0.0.1:${port} (${failure.code ?? failure.message}).`,
        "change redirectPort to a free port from 1024 up, or check local firewall/sandbox rules",
      ),
    );
  } else if (findings.length === 0) {
    findings.push(ok(check, `${uri} is free`));
  }
  return findings;
}
