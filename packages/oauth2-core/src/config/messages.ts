import en from "zod/v4/locales/en.js";

/**
 * Parse options that give zod/mini's built-in checks English messages ("Too small: expected
 * number to be >=100"). zod/mini ships none, so without them such an issue reads "Invalid input".
 * A field's own `error` text still wins. Passed per parse rather than set with `z.config()`, so
 * the plugins never change zod's global settings in someone else's process.
 */
export const parseWithMessages = { error: en().localeError } as const;
