import { loginCommand, OAuth2Error } from "../errors.js";

export interface LoginTimeoutInfo {
  providerId: string;
  timeoutMs: number;
  /** The redirect_uri the authorization request carried, exactly. */
  redirectUri: string;
  /** True when it came from `redirectPort`, false for a random port. */
  fixedPort: boolean;
  /** Requests on the callback path that carried another state. */
  ignored: number;
}

/**
 * No callback arrived. The browser is out of sight, so name what usually causes it: an IdP that
 * compares redirect URIs exactly (no RFC 8252 any-port loopback) shows its own error page and
 * never redirects back; the tab was closed; there is no browser here.
 */
export function loginTimeoutError(info: LoginTimeoutInfo): OAuth2Error {
  const seconds = Number((info.timeoutMs / 1000).toFixed(1));
  const port = new URL(info.redirectUri).port;
  const registered = info.fixedPort
    ? `the IdP does not accept the redirect URI ${info.redirectUri} (the browser then shows an error page from the IdP): register exactly this URI for the client at the IdP`
    : `the IdP does not accept the redirect URI ${info.redirectUri}, whose port ${port} was picked at random, because it compares redirect URIs exactly (the browser then shows an error page from the IdP): set "redirectPort" to a fixed free port, e.g. 8765, and register http://127.0.0.1:8765${new URL(info.redirectUri).pathname} for the client at the IdP`;
  const ignored =
    info.ignored > 0
      ? ` ${info.ignored} request(s) with another state reached the callback and were ignored.`
      : "";
  return new OAuth2Error({
    code: "login_timeout",
    providerId: info.providerId,
    message: `the browser login did not complete within ${seconds} s: no callback reached ${info.redirectUri}.${ignored}`,
    fix: `likely causes: (1) ${registered}; (2) the browser tab was closed before the login finished: run ${loginCommand(info.providerId)} again; (3) no browser on this machine: use the device flow (--flow device)`,
  });
}
