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
