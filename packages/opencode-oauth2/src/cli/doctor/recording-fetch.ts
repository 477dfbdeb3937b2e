import { type FetchLike, platformFetch } from "@vymalo/oauth2-core";

export interface RecordedResponse {
  url: string;
  status: number;
  /** The response's `Date` header. */
  date: string | null;
  /** Local clock when the response arrived (ms). */
  receivedAt: number;
  /** Local clock when the request was sent (ms). */
  sentAt: number;
}

/**
 * A fetch for doctor's protocol requests (made by core and openid-client) that remembers what
 * it saw: each response's status and `Date` header (clock skew), and the `issuer` a discovery
 * document names (to show it when it is not the configured one). Bodies are only read for
 * discovery documents, which hold no secret.
 */
export class FetchRecorder {
  readonly responses: RecordedResponse[] = [];
  private readonly issuers = new Map<string, unknown>();

  constructor(private readonly now: () => number = Date.now) {}

  readonly fetch: FetchLike = async (url, init) => {
    const sentAt = this.now();
    // platformFetch, not fetch: a request through a proxy carries undici's dispatcher.
    const response = await platformFetch(url, init);
    const receivedAt = this.now();
    this.responses.push({
      url,
      status: response.status,
      date: response.headers.get("date"),
      receivedAt,
      sentAt,
    });
    if (url.includes("/.well-known/")) {
      const body: unknown = await response
        .clone()
        .json()
        .catch(() => undefined);
      if (typeof body === "object" && body !== null) {
        this.issuers.set(url, (body as { issuer?: unknown }).issuer);
      }
    }
    return response;
  };

  /** The `issuer` of the last discovery document fetched under `issuer`, when it was JSON. */
  discoveredIssuer(issuer: string): unknown {
    let found: unknown;
    for (const [url, value] of this.issuers) {
      if (url.startsWith(issuer.replace(/\/$/, ""))) found = value;
    }
    return found;
  }
}
