import { z } from "zod";
import { help, nonEmpty } from "../config-fields.js";

/**
 * The `quota` section of the gateway config (config.ts): requests per minute and tokens per day,
 * for each user and for whole groups, counted in memory or in a shared Redis.
 */

const count = (what: string, example: string) =>
  z
    .number({ error: `expected ${what} (a whole number)` })
    .int({ error: "expected a whole number" })
    .positive({ error: "must be greater than 0 (remove the field for no limit)" })
    .optional()
    .meta(help(what, example));

const LimitsSchema = z
  .strictObject({
    requestsPerMinute: count("Requests per minute (a fixed window on the minute).", "60"),
    tokensPerDay: count(
      "Tokens (prompt + completion, from the upstream's usage) per UTC day.",
      "2000000",
    ),
  })
  .refine((l) => l.requestsPerMinute !== undefined || l.tokensPerDay !== undefined, {
    error: "set requestsPerMinute, tokensPerDay or both",
  });

export type QuotaLimits = z.output<typeof LimitsSchema>;

const redisUrl = z
  .string({ error: "expected a redis:// or rediss:// URL" })
  .refine((value) => URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol), {
    error: 'expected a redis:// or rediss:// URL, e.g. "redis://redis:6379/0"',
  })
  .meta(
    help(
      "Share the counters between replicas in this Redis (prefer OPENCODE_GATEWAY_QUOTA_REDIS when it holds a password). Without it, each instance counts on its own.",
      '"redis://redis.internal:6379/0"',
    ),
  );

export const QuotaSchema = z
  .strictObject({
    user: LimitsSchema.optional().meta(
      help(
        "Limits for each user (the token's sub, else its client).",
        '{ "requestsPerMinute": 60 }',
      ),
    ),
    groups: z
      .record(nonEmpty("a group"), LimitsSchema, {
        error: "expected an object mapping each group to its limits",
      })
      .default({})
      .meta(
        help(
          "Limits a whole group shares (groupsClaim): every member's calls count against it.",
          '{ "/interns": { "tokensPerDay": 5000000 } }',
        ),
      ),
    redis: redisUrl.optional(),
    failMode: z
      .enum(["open", "closed"], { error: 'expected "open" or "closed"' })
      .default("open")
      .meta(
        help(
          'When Redis cannot be used: "open" lets calls through uncounted, "closed" answers 503.',
          '"closed"',
        ),
      ),
    redisTimeoutMs: z
      .number()
      .int()
      .min(10)
      .max(10_000)
      .default(250)
      .meta(help("How long one Redis call may take before the failMode applies.", "250")),
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9:_.{}-]*$/, { error: "letters, digits and : _ . - { } only" })
      .default("opencode-gateway:quota:")
      .meta(help("Prefix of the Redis keys (several gateways on one Redis).", '"llm-prod:quota:"')),
    maxTrackedKeys: z
      .number()
      .int()
      .min(100)
      .max(10_000_000)
      .default(100_000)
      .meta(
        help(
          "In-memory counters kept at most (one per user or group and limit); the least recently used are dropped.",
          "100000",
        ),
      ),
  })
  .superRefine((quota, ctx) => {
    if (!quota.user && Object.keys(quota.groups).length === 0) {
      ctx.addIssue({
        code: "custom",
        message:
          'limits nobody: set user (e.g. { "requestsPerMinute": 60 }) or groups, or remove `quota`',
      });
    }
  })
  .meta(
    help(
      "Requests per minute and tokens per day per user and per group; over a limit the answer is 429.",
      '{ "user": { "requestsPerMinute": 60, "tokensPerDay": 2000000 } }',
    ),
  );

export type QuotaConfig = z.output<typeof QuotaSchema>;
