import type { Output } from "./output.js";

export interface Progress {
  /** Stops the spinner (clearing its line) or the periodic lines. */
  stop(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Shows that something is pending: a spinner rewriting one stderr line on a terminal, otherwise
 * (logs, CI, pipes) the message as a plain line at once and again every `plainEveryMs`.
 */
export function startProgress(
  out: Output,
  message: () => string,
  options: { plainEveryMs?: number } = {},
): Progress {
  if (!out.errIsTTY) {
    out.err(message());
    const timer = setInterval(() => out.err(message()), options.plainEveryMs ?? 30_000);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }
  let frame = 0;
  const draw = () => {
    out.stderr.write(`\r\u001b[2K${out.errStyle.cyan(FRAMES[frame] ?? "")} ${message()}`);
    frame = (frame + 1) % FRAMES.length;
  };
  draw();
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      out.stderr.write("\r\u001b[2K");
    },
  };
}
