import { formatMs, median } from "./stats.js";

/** One line of the results table. */
export interface Figure {
  /** What was measured, e.g. "opencode start, both plugins / no-op plugin". */
  name: string;
  /** The measured value: a ratio or a count. */
  value: number;
  /** How the value is printed (ratios with 2 decimals, counts as integers). */
  kind: "ratio" | "count";
  /** The goal, e.g. { op: "≤", target: 1.05 }; undefined when the figure is only reported. */
  goal?: { op: "≤" | "≥" | "="; target: number } | undefined;
  /** Context for people (medians, sample sizes); never the result itself. */
  detail: string;
}

const show = (value: number, kind: Figure["kind"]) =>
  kind === "ratio" ? value.toFixed(2) : String(Math.round(value));

export function verdict(figure: Figure): "ok" | "MISSED" | "-" {
  const { goal } = figure;
  if (!goal) return "-";
  const value = Number(show(figure.value, figure.kind));
  const met =
    goal.op === "≤"
      ? value <= goal.target
      : goal.op === "≥"
        ? value >= goal.target
        : value === goal.target;
  return met ? "ok" : "MISSED";
}

/** The figures as a plain-text table (Markdown-compatible), one row per figure. */
export function renderTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    show(f.value, f.kind),
    f.goal ? `${f.goal.op} ${f.goal.target}` : "report",
    verdict(f),
    f.detail,
  ]);
  const header = ["figure", "result", "goal", "", "context (medians, samples)"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/**
 * A figure that is the ratio of two samples' medians; its detail starts with both medians
 * (`a / b`) and goes on with `context(a, b)`.
 */
export function medianRatioFigure(
  name: string,
  samples: { a: readonly number[]; b: readonly number[] },
  context: (a: number, b: number) => string,
  goal?: Figure["goal"],
): Figure {
  const a = median(samples.a);
  const b = median(samples.b);
  return {
    name,
    value: a / b,
    kind: "ratio",
    goal,
    detail: `${formatMs(a)} / ${formatMs(b)}${context(a, b)}`,
  };
}
