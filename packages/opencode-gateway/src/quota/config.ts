import { withHelp } from "@vymalo/oauth2-core";
import * as z from "@vymalo/oauth2-core/zod";
import { nonEmpty } from "../config-fields.js";

/**
 * The `quota` section of the gateway config (config.ts): requests per minute and tokens per day,
 * for each user and for whole groups, counted in memory or in a shared Redis.
 */

const count = (what: string, example: string) =>
  withHelp(
    z.optional(
      z
        .number({ error: `expected ${what} (a whole number)` })
        .check(
          z.int({ error: "expected a whole number" }),
          z.positive({ error: "must be greater than 0 (remove the field for no limit)" }),
        ),
    ),
    what,
    example,
  );

const LimitsSchema = z
  .strictObject({
    requestsPerMinute: count("Requests per minute (a fixed window on the minute).", "60"),
    tokensPerDay: count(
      "Tokens (prompt + completion, from the upstream's usage) per UTC day.",
      "2000000",
    ),
  })
  .check(
    z.refine((l) => l.requestsPerMinute !== undefined || l.tokensPerDay !== undefined, {
      error: "set requestsPerMinute, tokensPerDay or both",
    }),
  );

export type QuotaLimits = z.output<typeof LimitsSchema>;

const redisUrl = withHelp(
  z.string({ error: "expected a redis:// or rediss:// URL" }).check(
    z.refine((value) => URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol), {
      error: 'expected a redis:// or rediss:// URL, e.g. "redis://redis:6379/0"',
    }),
  ),
  "Share the counters between replicas in this Redis (prefer OPENCODE_GATEWAY_QUOTA_REDIS when it holds a password). Without it, each instance counts on its own.",
  '"redis://redis.internal:6379/0"',
);

export const QuotaSchema = withHelp(
  z
    .strictObject({
      user: withHelp(
        z.optional(LimitsSchema),
        "Limits for each user (the token's sub, else its client).",
        '{ "requestsPerMinute": 60 }',
      ),
      groups: withHelp(
        z._default(
          z.record(nonEmpty("a group"), LimitsSchema, {
            error: "expected an object mapping each group to its limits",
          }),
          {},
        ),
        "Limits a whole group shares (groupsClaim): every member's calls count against it.",
        '{ "/interns": { "tokensPerDay": 5000000 } }',
      ),
      redis: z.optional(redisUrl),
      failMode: withHelp(
        z._default(z.enum(["open", "closed"], { error: 'expected "open" or "closed"' }), "open"),
        'When Redis cannot be used: "open" lets calls through uncounted, "closed" answers 503.',
        '"closed"',
      ),
      redisTimeoutMs: withHelp(
        z._default(z.number().check(z.int(), z.gte(10), z.lte(10_000)), 250),
        "How long one Redis call may take before the failMode applies.",
        "250",
      ),
      keyPrefix: withHelp(
        z._default(
          z
            .string()
            .check(
              z.regex(/^[A-Za-z0-9:_.{}-]*$/, { error: "letters, digits and : _ . - { } only" }),
            ),
          "opencode-gateway:quota:",
        ),
        "Prefix of the Redis keys (several gateways on one Redis).",
        '"llm-prod:quota:"',
      ),
      maxTrackedKeys: withHelp(
        z._default(z.number().check(z.int(), z.gte(100), z.lte(10_000_000)), 100_000),
        "In-memory counters kept at most (one per user or group and limit); the least recently used are dropped.",
        "100000",
      ),
    })
    .check(
      z.superRefine((quota, ctx) => {
        if (!quota.user && Object.keys(quota.groups).length === 0) {
          ctx.addIssue({
            code: "custom",
            message:
              'limits nobody: set user (e.g. { "requestsPerMinute": 60 }) or groups, or remove `quota`',
          });
        }
      }),
    ),
  "Requests per minute and tokens per day per user and per group; over a limit the answer is 429.",
  '{ "user": { "requestsPerMinute": 60, "tokensPerDay": 2000000 } }',
);

export type QuotaConfig = z.output<typeof QuotaSchema>;
