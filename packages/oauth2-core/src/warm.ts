/**
 * "@vymalo/oauth2-core/warm": the warm path of `opencode-oauth2 token`, free of zod and the
 * schemas, so a call that finds a fresh token loads almost nothing (see store/warm-token.ts).
 */
export { rememberWarm, type WarmRequest, type WarmToken, warmToken } from "./store/warm-token.js";
