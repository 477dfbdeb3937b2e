import * as z from "zod/mini";

/**
 * A whole number. `expected` is the message for a value that is not one ("abc", 1.5); a value
 * out of range keeps the message of the range check that failed ("Too small: expected number to
 * be >=100"), where a message set on the whole schema would hide which bound was crossed.
 */
export const wholeNumber = (expected: string) =>
  z
    .number({ error: (issue) => (issue.code === "invalid_type" ? expected : undefined) })
    .check(z.int());

/** Whole milliseconds, at least `min`. */
export const milliseconds = (min: number) =>
  wholeNumber("expected a whole number of milliseconds").check(z.gte(min));

/**
 * The longest delay Node's timers honour (2^31 - 1 ms, about 24.8 days). A longer timeout would
 * not wait longer: setTimeout fires after 1 ms and AbortSignal.timeout throws past 2^32 - 1.
 */
const MAX_TIMER_MS = 2_147_483_647;

/** Whole milliseconds from `min` up to the longest delay a timer can wait: for timeouts. */
export const timerMs = (min: number) =>
  milliseconds(min).check(
    z.lte(MAX_TIMER_MS, { error: "expected at most 2147483647 ms (about 24 days)" }),
  );
