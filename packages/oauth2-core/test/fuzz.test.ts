// Property-based fuzzing of the config parser: whatever JSON-ish value a user (or a merged
// config layer) puts where an oauth2 block goes, the parser answers with a config or with
// structured issues — never an exception — and every config it accepts keeps the rules the
// engine relies on (no secret on a public client, https or loopback issuer, timers that fit).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ConfigIssue, parseProviderConfig } from "../src/config/parse.js";
import { isLoopbackHttp } from "../src/config/rules.js";
import type { ProviderConfig, ResolvedClient } from "../src/config/schema.js";
import { collectFromOpencodeConfig, collectProviders } from "../src/opencode/collect.js";

/** Bounded and fast: ~300–600 runs per property, a fixed seed per run is printed on failure. */
const RUNS = { numRuns: 400 } as const;

/** The largest delay Node's timers (setTimeout, AbortSignal.timeout) honour as given. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Arbitrary JSON-ish values, including deep and odd objects (prototype-ish keys, nulls). */
const oddKey = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    "__proto__",
    "constructor",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "oauth2",
    "options",
    "provider",
    "providers",
    "plugin",
    "issuer",
    "clientId",
    "",
  ),
);
const anyValue = fc.anything({
  key: oddKey,
  maxDepth: 4,
  maxKeys: 6,
  withNullPrototype: true,
  withObjectString: true,
  withBoxedValues: true,
  withSparseArray: true,
  withUnicodeString: true,
});
const jsonish = fc.jsonValue({ maxDepth: 5 });

/** Plausible values for each field, right and wrong mixed: what users actually mistype. */
const urlish = fc.constantFrom(
  "https://idp.example.com/realms/corp",
  "https://idp.example.com/realms/corp/",
  "http://127.0.0.1:8080",
  "http://localhost:9000/realms/x",
  "http://[::1]:8080",
  "http://idp.example.com",
  "ftp://idp.example.com",
  "idp.example.com",
  "/realms/corp",
  "https://",
  " https://idp.example.com",
  "",
  "javascript:alert(1)",
  "file:///etc/passwd",
);
const numberish = fc.oneof(
  fc.integer({ min: -10, max: 200_000 }),
  fc.constantFrom(0, 99, 100, 999, 1000, 5000, 60_000, 300_000),
  fc.constantFrom(2 ** 31 - 1, 2 ** 31, 4_294_967_296, 1e12, 1e300, Number.MAX_SAFE_INTEGER),
  fc.double({ noNaN: false }),
  fc.constantFrom("5000", "5s", null, true, -1),
);
const stringish = fc.oneof(
  fc.constantFrom("opencode-cli", "llm-web", "svc", "", " ", "s3cret", "CI_JOB_JWT"),
  fc.string({ maxLength: 20 }),
  fc.constantFrom(null, 42, true, [], {}),
);
const scopesish = fc.oneof(
  fc.constantFrom(
    "openid offline_access",
    "openid,profile",
    "  ",
    "",
    ",,,",
    "openid\topenid\nemail",
  ),
  fc.array(fc.oneof(fc.constantFrom("openid", "email", "", " x "), fc.string()), {
    maxLength: 5,
  }),
  fc.constantFrom(42, null, { openid: true }),
);
const flowish = fc.constantFrom(
  "authorization_code",
  "device_code",
  "client_credentials",
  "token_exchange",
  "password",
  "implicit",
  "Authorization_Code",
  "",
  null,
);
const clientish = fc.record(
  {
    clientId: stringish,
    clientSecret: stringish,
    clientType: fc.constantFrom("public", "confidential", "Public", "", null),
    clientAuthMethod: fc.constantFrom(
      "client_secret_basic",
      "client_secret_post",
      "private_key_jwt",
      "none",
    ),
  },
  { requiredKeys: [] },
);
const endpointsish = fc.record(
  {
    authorization: urlish,
    token: urlish,
    deviceAuthorization: urlish,
    revocation: urlish,
    jwks: urlish,
    userinfo: urlish,
    tokn: urlish,
  },
  { requiredKeys: [] },
);
const subjectTokenish = fc.record(
  {
    file: stringish,
    env: stringish,
    type: fc.constantFrom("urn:ietf:params:oauth:token-type:jwt", "", 7),
  },
  { requiredKeys: [] },
);

/** Every field with a plausible-but-maybe-wrong value, plus typo keys users really write. */
const plausibleField = {
  issuer: urlish,
  clientId: stringish,
  clientSecret: stringish,
  clientType: fc.constantFrom("public", "confidential", "Public", "", null),
  clientAuthMethod: fc.constantFrom("client_secret_basic", "client_secret_post", "basic"),
  interactiveClient: fc.oneof(clientish, stringish),
  scopes: scopesish,
  authFlow: flowish,
  headlessFlow: flowish,
  pkce: fc.constantFrom(true, false, "true", 0, null),
  audience: stringish,
  resource: fc.oneof(urlish, fc.array(urlish, { maxLength: 3 }), stringish),
  redirectPort: numberish,
  redirectPath: fc.constantFrom("/callback", "callback", "/", "", "/cb?x=1"),
  endpoints: fc.oneof(endpointsish, stringish),
  subjectToken: fc.oneof(subjectTokenish, stringish),
  authorizationParams: fc.oneof(
    fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer())),
    stringish,
  ),
  httpTimeoutMs: numberish,
  tokenExpirySkewMs: numberish,
  loginTimeoutMs: numberish,
  clientID: stringish,
  scope: stringish,
  constructor: stringish,
};
type FieldName = keyof typeof plausibleField;
const FIELD_NAMES = Object.keys(plausibleField) as FieldName[];

/** A valid block in one of the shapes users write (public CLI, confidential CI, two clients…). */
const validBlock = fc.oneof(
  fc.record({
    issuer: fc.constantFrom("https://idp.example.com/realms/corp", "http://127.0.0.1:8080"),
    clientId: fc.constantFrom("opencode-cli", "cli"),
    scopes: fc.constantFrom("openid offline_access", ["openid", "email"], undefined),
    authFlow: fc.constantFrom("authorization_code", "device_code", undefined),
  }),
  fc.record({
    issuer: fc.constant("https://login.example.com"),
    clientId: fc.constant("svc"),
    clientSecret: fc.constant("s3cret"),
    authFlow: fc.constant("client_credentials"),
    httpTimeoutMs: fc.integer({ min: 100, max: 60_000 }),
  }),
  fc.record({
    issuer: fc.constant("https://login.example.com/realms/corp"),
    clientId: fc.constant("llm-web"),
    clientSecret: fc.constant("web-secret"),
    interactiveClient: fc.constant({ clientId: "opencode-cli" }),
    headlessFlow: fc.constantFrom("client_credentials", undefined),
  }),
);

/** A valid block with 0–3 fields replaced by plausible-but-maybe-wrong values. */
const oauth2Block = fc
  .tuple(
    validBlock,
    fc
      .uniqueArray(fc.constantFrom(...FIELD_NAMES), { maxLength: 3 })
      .chain((names) =>
        fc.record(Object.fromEntries(names.map((n) => [n, plausibleField[n]])) as never),
      ),
  )
  .map(([base, mutation]) => {
    const block: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(mutation as Record<string, unknown>)) {
      // defineProperty: "constructor" becomes an own key, as JSON.parse makes it.
      Object.defineProperty(block, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    for (const key of Object.keys(block)) if (block[key] === undefined) delete block[key];
    return block;
  });

function expectWellFormedIssue(issue: ConfigIssue, providerId: string): void {
  for (const key of ["providerId", "field", "location", "expected", "fix", "message"] as const) {
    expect(typeof issue[key], key).toBe("string");
  }
  expect(issue.fix.length).toBeGreaterThan(0);
  expect(issue.expected.length).toBeGreaterThan(0);
  if (providerId !== "*") expect(issue.message).toContain(`provider "${providerId}"`);
}

function expectClientRules(client: ResolvedClient): void {
  expect(typeof client.clientId).toBe("string");
  expect(client.clientId.length).toBeGreaterThan(0);
  if (client.type === "public") {
    // The rule the engine enforces: a public client never has a secret to send.
    expect(client.clientSecret).toBeUndefined();
    expect(client.authMethod).toBe("none");
  } else {
    expect(client.type).toBe("confidential");
    expect(typeof client.clientSecret).toBe("string");
    expect(client.clientSecret?.length).toBeGreaterThan(0);
    expect(["client_secret_basic", "client_secret_post"]).toContain(client.authMethod);
  }
}

/** What every accepted config must satisfy for the engine to be safe to run on it. */
function expectEngineInvariants(config: ProviderConfig, id: string): void {
  expect(config.id).toBe(id);
  expect(config.issuer.startsWith("https://") || isLoopbackHttp(config.issuer)).toBe(true);
  expectClientRules(config.client);
  expectClientRules(config.loginClient);
  for (const flow of [config.authFlow, config.headlessFlow]) {
    if (flow === "client_credentials" || flow === "token_exchange") {
      expect(config.client.type).toBe("confidential");
    }
    if (flow === "token_exchange") {
      expect(Boolean(config.subjectToken?.file) !== Boolean(config.subjectToken?.env)).toBe(true);
    }
  }
  expect(Array.isArray(config.scopes)).toBe(true);
  for (const scope of config.scopes) {
    expect(scope.length).toBeGreaterThan(0);
    expect(scope.trim()).toBe(scope);
  }
  expect(new Set(config.scopes).size).toBe(config.scopes.length);
  expect(config.redirectPath.startsWith("/")).toBe(true);
  if (config.redirectPort !== undefined) {
    expect(Number.isInteger(config.redirectPort)).toBe(true);
    expect(config.redirectPort).toBeGreaterThanOrEqual(1);
    expect(config.redirectPort).toBeLessThanOrEqual(65535);
  }
  // Timeouts end up in setTimeout / AbortSignal.timeout: they must be delays Node honours, or a
  // "long" timeout silently becomes a 1 ms one (or a RangeError on every request).
  for (const [name, value, min] of [
    ["httpTimeoutMs", config.httpTimeoutMs, 100],
    ["loginTimeoutMs", config.loginTimeoutMs, 1000],
  ] as const) {
    expect(Number.isSafeInteger(value), name).toBe(true);
    expect(value, name).toBeGreaterThanOrEqual(min);
    expect(value, name).toBeLessThanOrEqual(MAX_TIMER_MS);
  }
  expect(Number.isSafeInteger(config.tokenExpirySkewMs)).toBe(true);
  expect(config.tokenExpirySkewMs).toBeGreaterThanOrEqual(0);
  for (const value of Object.values(config.authorizationParams ?? {})) {
    expect(typeof value).toBe("string");
  }
}

function checkParse(id: string, raw: unknown): void {
  const parsed = parseProviderConfig(id, raw);
  if ("config" in parsed) {
    expectEngineInvariants(parsed.config, id);
  } else {
    expect(parsed.issues.length).toBeGreaterThan(0);
    for (const issue of parsed.issues) expectWellFormedIssue(issue, id);
    // One message per field.
    expect(new Set(parsed.issues.map((i) => i.field)).size).toBe(parsed.issues.length);
  }
}

function checkCollected(result: ReturnType<typeof collectProviders>): void {
  expect(typeof result.providers).toBe("object");
  expect(Array.isArray(result.issues)).toBe(true);
  for (const [id, config] of Object.entries(result.providers)) expectEngineInvariants(config, id);
  for (const issue of result.issues) expectWellFormedIssue(issue, issue.providerId);
}

describe("fuzz: parseProviderConfig", () => {
  it("answers any value with a config or structured issues, never an exception", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), fc.oneof(anyValue, jsonish), (id, raw) => {
        checkParse(id, raw);
      }),
      {
        ...RUNS,
        // Found by this property (they threw a TypeError out of the parser before the fix).
        examples: [
          ["corp", JSON.parse('{"__proto__": []}')],
          ["corp", { issuer: "https://idp.example.com", clientId: "cli", constructor: 1 }],
          ["corp", { issuer: "https://idp.example.com", clientId: "cli", toString: "x" }],
        ],
      },
    );
  });

  it("keeps the engine's invariants on plausible-but-wrong oauth2 blocks", () => {
    fc.assert(
      fc.property(oauth2Block, (raw) => {
        checkParse("corp", raw);
      }),
      {
        numRuns: 1000,
        // Found by this property: accepted before the fix, then failed at run time.
        examples: [
          [{ issuer: "https://idp.example.com", clientId: "cli", httpTimeoutMs: 5e9 }],
          [{ issuer: "https://idp.example.com", clientId: "cli", loginTimeoutMs: 2 ** 31 }],
          [
            {
              issuer: "https://idp.example.com",
              clientId: "web",
              clientSecret: "s",
              interactiveClient: { clientId: "cli", clientType: "confidential" },
            },
          ],
        ],
      },
    );
  });

  it("accepts and refuses a real share of the blocks (the generator is not all noise)", () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(oauth2Block, (raw) => {
        if ("config" in parseProviderConfig("corp", raw)) accepted += 1;
        else refused += 1;
      }),
      { numRuns: 300, seed: 42 },
    );
    // The invariants above are only worth something if configs get through, and are refused.
    expect(accepted).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(30);
  });
});

describe("fuzz: collectProviders / collectFromOpencodeConfig", () => {
  const providerEntry = fc.oneof(
    { weight: 3, arbitrary: fc.record({ options: fc.record({ oauth2: oauth2Block }) }) },
    { weight: 1, arbitrary: fc.record({ options: anyValue }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: anyValue },
  );
  const providers = fc.oneof(
    { weight: 4, arbitrary: fc.dictionary(oddKey, providerEntry, { maxKeys: 4 }) },
    { weight: 1, arbitrary: anyValue },
  );
  const pluginOptions = fc.oneof(
    fc.record(
      {
        providers: fc.oneof(fc.dictionary(oddKey, fc.oneof(oauth2Block, anyValue)), anyValue),
        loginProvider: stringish,
      },
      { requiredKeys: [] },
    ),
    anyValue,
  );
  const pluginList = fc.oneof(
    fc.array(
      fc.oneof(
        fc.constantFrom("@vymalo/opencode-oauth2", "file:///x/opencode-oauth2/dist/index.js"),
        fc.tuple(fc.constantFrom("@vymalo/opencode-oauth2", "other-plugin"), pluginOptions),
        anyValue,
      ),
      { maxLength: 4 },
    ),
    anyValue,
  );

  it("collectProviders never throws, whatever the config and plugin options", () => {
    fc.assert(
      fc.property(
        fc.record({ provider: providers }, { requiredKeys: [] }),
        pluginOptions,
        (config, options) => {
          checkCollected(collectProviders(config as never, options));
        },
      ),
      RUNS,
    );
  });

  it("collectFromOpencodeConfig never throws on whole odd opencode configs", () => {
    fc.assert(
      fc.property(
        fc.record(
          { provider: providers, plugin: pluginList, extra: anyValue },
          { requiredKeys: [] },
        ),
        (config) => {
          checkCollected(collectFromOpencodeConfig(config as never));
        },
      ),
      RUNS,
    );
  });

  it("a valid provider is found under any id, from either config shape", () => {
    const valid = { issuer: "https://idp.example.com", clientId: "opencode-cli" };
    fc.assert(
      fc.property(oddKey, fc.boolean(), (id, viaPlugin) => {
        // zod's record drops a "__proto__" key from the plugin options (it assigns, which sets
        // the prototype): that one id is only supported in provider.<id>.options.oauth2.
        fc.pre(!(viaPlugin && id === "__proto__"));
        const config = viaPlugin
          ? { plugin: [["@vymalo/opencode-oauth2", { providers: { [id]: valid } }]] }
          : { provider: { [id]: { options: { oauth2: valid } } } };
        // Built with defineProperty semantics so "__proto__" is an own key, as JSON.parse makes it.
        const parsed = JSON.parse(JSON.stringify(config)) as never;
        const result = collectFromOpencodeConfig(parsed);
        expect(result.issues).toEqual([]);
        expect(Object.keys(result.providers)).toEqual([id]);
        expect(Object.hasOwn(result.providers, id)).toBe(true);
        expectEngineInvariants(result.providers[id] as ProviderConfig, id);
      }),
      {
        numRuns: 300,
        // Found by this property: dropped, or refused as "expected object, received function".
        examples: [
          ["constructor", true],
          ["toString", true],
          ["__proto__", false],
        ],
      },
    );
  });
});
