import {
  isOAuth2Error,
  KUBERNETES_TOKEN_FILE,
  type OAuth2Error,
  type ProviderConfig,
  peekJwtClaims,
} from "@vymalo/oauth2-core";
import {
  githubActionsRequest,
  readSubjectToken,
  tokenSourceOf,
} from "@vymalo/oauth2-core/protocol";
import { formatExpiry } from "../human-time.js";
import { error, type Finding, ok, warn } from "./finding.js";

const CHECK = "subject token";
const JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt";

/** A claim as doctor prints it: quoted, and cut short (the token is the workload's, not ours). */
const shown = (value: unknown) => {
  const text = Array.isArray(value) ? value.join(", ") : String(value);
  return `"${text.length > 80 ? `${text.slice(0, 77)}…` : text}"`;
};

/** Who the JWT speaks for and until when — its claims, never the token itself. */
function describeToken(provider: ProviderConfig, token: string, now: number): Finding {
  const source = provider.subjectToken;
  const from = source?.env
    ? `the environment variable ${source.env}`
    : (source?.file ?? KUBERNETES_TOKEN_FILE);
  const claims = peekJwtClaims(token);
  if (!claims) {
    const wantsJwt = provider.headlessFlow === "jwt_bearer" || source?.type === JWT_TYPE;
    return wantsJwt
      ? warn(
          CHECK,
          `${from} holds a token that is not a JWT, but ${provider.headlessFlow === "jwt_bearer" ? "jwt_bearer sends it as a JWT assertion" : `subjectToken.type is ${JWT_TYPE}`}.`,
          provider.headlessFlow === "jwt_bearer"
            ? "point subjectToken at the JWT itself (three base64url parts separated by dots)"
            : "point subjectToken at the JWT, or set subjectToken.type to the type of this token (e.g. urn:ietf:params:oauth:token-type:access_token)",
        )
      : ok(CHECK, `read from ${from} (not a JWT; sent as it is)`);
  }
  const facts = [
    claims.sub !== undefined ? `for ${shown(claims.sub)}` : undefined,
    claims.iss !== undefined ? `issued by ${shown(claims.iss)}` : undefined,
    claims.aud !== undefined ? `audience ${shown(claims.aud)}` : undefined,
    typeof claims.exp === "number" ? `expires ${formatExpiry(claims.exp * 1000, now)}` : undefined,
  ].filter(Boolean);
  return ok(CHECK, `read from ${from}: a JWT${facts.length ? ` ${facts.join(", ")}` : ""}`);
}

/**
 * Whether the token a workload provider presents (token_exchange's subject token, jwt_bearer's
 * assertion) can be read here: the file or the env variable read as a renewal reads it (an
 * expired JWT is refused the same way), and for GitHub Actions the runner's variables only —
 * doctor requests no token from the runner. On an interactive provider whose headlessFlow is
 * the CI fallback, a source this machine lacks is expected, so it is a warning.
 */
export async function checkSubjectToken(
  provider: ProviderConfig,
  env: NodeJS.ProcessEnv,
  now: number,
): Promise<Finding[]> {
  const flow = provider.headlessFlow;
  const source = provider.subjectToken;
  if ((flow !== "token_exchange" && flow !== "jwt_bearer") || !source) return [];
  const failed = (err: OAuth2Error): Finding =>
    provider.loginFlow
      ? warn(
          CHECK,
          `${err.detail} Only headlessFlow "${flow}" (the CI fallback) reads it; here you log in with ${provider.loginFlow}.`,
          `where the CI fallback runs: ${err.fix}`,
        )
      : error(CHECK, err.detail, err.fix);
  try {
    if (tokenSourceOf(provider) === "github-actions") {
      const { target } = githubActionsRequest({
        providerId: provider.id,
        env,
        audience: source.audience,
      });
      return [
        ok(
          CHECK,
          `GitHub Actions: the runner's OIDC endpoint (${target.origin}) and its request token are set; the job's token${source.audience ? ` for audience "${source.audience}"` : ""} is requested at each renewal (doctor requests none)`,
        ),
      ];
    }
    const token = await readSubjectToken(provider, { env, now: () => now });
    return [describeToken(provider, token, now)];
  } catch (err) {
    if (!isOAuth2Error(err)) throw err;
    return [failed(err)];
  }
}
