/**
 * Where the CLI writes: results to stdout (a table, JSON, or the token alone), everything for a
 * human — prompts, progress, errors, log records — to stderr. Colour only on a TTY and only when
 * NO_COLOR is unset (https://no-color.org) and TERM is not "dumb".
 */

export interface Stream {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
}

export type Paint = (text: string) => string;

export interface Style {
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
}

export interface Output {
  /** A line on stdout (the command's result). */
  out(line?: string): void;
  /** A line on stderr (messages for the human). */
  err(line?: string): void;
  /** A JSON document on stdout, for scripts. */
  json(value: unknown): void;
  /** Styles for stdout and for stderr (identity functions when colour is off). */
  style: Style;
  errStyle: Style;
  /** Whether stderr is a terminal (spinners, in-place updates). */
  errIsTTY: boolean;
  /** Raw stderr, for progress that rewrites its line. */
  stderr: Stream;
}

const ansi =
  (open: number, close: number): Paint =>
  (text) =>
    `\u001b[${open}m${text}\u001b[${close}m`;

const plain: Paint = (text) => text;

const PLAIN_STYLE: Style = {
  bold: plain,
  dim: plain,
  red: plain,
  green: plain,
  yellow: plain,
  cyan: plain,
};

const ANSI_STYLE: Style = {
  bold: ansi(1, 22),
  dim: ansi(2, 22),
  red: ansi(31, 39),
  green: ansi(32, 39),
  yellow: ansi(33, 39),
  cyan: ansi(36, 39),
};

export function colorEnabled(stream: Stream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

export function createOutput(
  streams: { stdout: Stream; stderr: Stream } = process,
  env: NodeJS.ProcessEnv = process.env,
): Output {
  const { stdout, stderr } = streams;
  return {
    out: (line = "") => stdout.write(`${line}\n`),
    err: (line = "") => stderr.write(`${line}\n`),
    json: (value) => stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    style: colorEnabled(stdout, env) ? ANSI_STYLE : PLAIN_STYLE,
    errStyle: colorEnabled(stderr, env) ? ANSI_STYLE : PLAIN_STYLE,
    errIsTTY: stderr.isTTY === true,
    stderr,
  };
}

const ANSI_CODE = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, "g");

/** Pads cells to column widths (ANSI codes do not count towards the width). */
export function formatTable(rows: string[][], gap = 2): string[] {
  const visible = (cell: string) => cell.replace(ANSI_CODE, "").length;
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visible(cell));
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) =>
        i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - visible(cell) + gap),
      )
      .join("")
      .trimEnd(),
  );
}
