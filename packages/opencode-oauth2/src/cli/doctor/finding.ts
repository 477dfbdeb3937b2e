/** One result of `doctor`: what was checked, what was found and, unless ok, the fix. */
export interface Finding {
  level: "ok" | "warn" | "error";
  /** The provider it concerns; undefined for the setup as a whole. */
  provider?: string | undefined;
  /** What was checked, e.g. "discovery", "pkce", "client". */
  check: string;
  /** What was found, in one sentence. */
  found: string;
  /** What to do about it (absent for ok). */
  fix?: string | undefined;
}

export const ok = (check: string, found: string): Finding => ({ level: "ok", check, found });

export const warn = (check: string, found: string, fix: string): Finding => ({
  level: "warn",
  check,
  found,
  fix,
});

export const error = (check: string, found: string, fix: string): Finding => ({
  level: "error",
  check,
  found,
  fix,
});
