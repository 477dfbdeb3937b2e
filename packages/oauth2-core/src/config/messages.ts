import en from "zod/v4/locales/en.js";

/**
 * Parse options that give zod/mini's built-in checks English messages ("Too small: expected
 * number to be >=100"). zod/mini ships none, so without them such an issue reads "Invalid input".
 * A field's own `error` text still wins. Passed per parse rather than set with `z.config()`: that
 * config lives on globalThis, shared by every copy of zod in the process, and the plugins do not
 * change someone else's settings (classic zod, when anything imports it, sets the same messages).
 */
export const parseWithMessages = { error: en().localeError } as const;
