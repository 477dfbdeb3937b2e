import { CliFailure } from "../errors.js";

/** The access token a credential format prints, and when it expires. */
export interface IssuedToken {
  providerId: string;
  accessToken: string;
  tokenType: string;
  /** Epoch ms; undefined when the IdP gave no lifetime. */
  expiresAt?: number | undefined;
}

// RFC 6749 appendix A.12: an access token is visible ASCII and spaces. The formats put it in a
// header line, a git credential line or a shell word: a CR or LF from a broken or hostile IdP
// would add a line of its own there, so such a token is refused rather than printed.
const VSCHAR = /^[\x20-\x7e]+$/;

/** Whether a format may print the token (see {@link printableToken}). */
export const isPrintable = (token: IssuedToken): boolean => VSCHAR.test(token.accessToken);

/** `token`, checked before any format prints it. The error never contains the token. */
export function printableToken(token: IssuedToken): IssuedToken {
  if (!isPrintable(token)) {
    throw new CliFailure(
      `provider "${token.providerId}": the IdP's access token holds characters an access token may not (RFC 6749 A.12: printable ASCII only); refusing to print it. Fix: check the IdP's token endpoint.`,
    );
  }
  return token;
}
