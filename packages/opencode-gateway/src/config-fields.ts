import {
  ASYMMETRIC_JWS_ALGORITHMS,
  isSecureUrl,
  SECURE_URL_ERROR,
  splitList,
  withHelp,
} from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";
import { isAddressOrCidr } from "./forwarded.js";

/**
 * The field types the gateway config is made of (config.ts): URLs with the https rule, lists
 * given as arrays or strings, the algorithm allow-list. Each carries its own error messages.
 */

export type { FieldHelp } from "@vymalo/oauth2-core";

/** Asymmetric algorithms a JWKS can verify. HS* (shared secret) and `none` are never accepted. */
export const ASYMMETRIC_ALGORITHMS = ASYMMETRIC_JWS_ALGORITHMS;
export const DEFAULT_ALGORITHMS = ["RS256", "ES256", "PS256", "EdDSA"] as const;

/** An error message that says "required" when the field is missing. */
export const expected =
  (what: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? "required" : `expected ${what}`;

export const secureUrl = (description: string, example: string) =>
  withHelp(
    z.string({ error: expected("a URL string") }).check(
      z.refine((value) => URL.canParse(value), { error: "expected an absolute URL" }),
      z.refine(isSecureUrl, { error: SECURE_URL_ERROR }),
    ),
    description,
    example,
  );

export const httpUrl = (description: string, example: string) =>
  withHelp(
    z.string({ error: expected("a URL string") }).check(
      z.refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
        error: "expected an absolute http:// or https:// URL",
      }),
    ),
    description,
    example,
  );

export const nonEmpty = (what: string) =>
  z
    .string({ error: `expected ${what} (a string)` })
    .check(z.minLength(1, { error: "must not be empty" }));

export const noTrailingSlash = (url: string) => url.replace(/\/+$/, "");

export const algorithm = z.string({ error: "expected an algorithm name" }).check(
  z.superRefine((alg, ctx) => {
    if (alg.toLowerCase() === "none") {
      ctx.addIssue({ code: "custom", message: '"none" means unsigned tokens: remove it' });
    } else if (/^HS\d+$/i.test(alg)) {
      ctx.addIssue({
        code: "custom",
        message: `${alg} is a shared-secret algorithm: a JWKS holds public keys, and accepting ${alg} lets anyone who knows a public key sign tokens (key confusion). Remove it`,
      });
    } else if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      ctx.addIssue({
        code: "custom",
        message: `unknown algorithm "${alg}": use ${ASYMMETRIC_ALGORITHMS.join(", ")}`,
      });
    }
  }),
);

export const stringList = (what: string) =>
  z.pipe(
    z.union([z.array(nonEmpty(what)), z.string()], {
      error: expected(`an array of ${what}s or a space/comma separated string`),
    }),
    z.transform(splitList),
  );

/** A list of IP addresses or CIDRs; an entry that is neither is named with `examples`. */
export const addressList = (what: string, examples: string) =>
  stringList(what).check(
    z.superRefine((list, ctx) => {
      list.forEach((entry, index) => {
        if (!isAddressOrCidr(entry)) {
          ctx.addIssue({
            code: "custom",
            path: [index],
            message: `"${entry}" is not an IP address or CIDR (e.g. ${examples})`,
          });
        }
      });
    }),
  );
