/**
 * An injected fetch (tests, doctor's recording fetch, the gateway's outbound budget): the one
 * signature every package of the project takes. The global `fetch` is one.
 */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;
