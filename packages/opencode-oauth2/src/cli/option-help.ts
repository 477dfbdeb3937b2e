import type { OptionDefs, OptionSpec } from "./command.js";

/** What util.parseArgs takes: each option's type and short name, without its help. */
export function parseArgsOptions(defs: OptionDefs): OptionSpec {
  return Object.fromEntries(
    Object.entries(defs).map(([name, { type, short }]) => [
      name,
      short === undefined ? { type } : { type, short },
    ]),
  );
}

/**
 * The option list of a help page, from the same definitions the parser takes, so an option
 * cannot be accepted and left out of `--help` (or the other way round):
 *
 *   -c, --config FILE  also read this opencode config file
 *       --json         print …
 *
 * A help text of several lines keeps its line breaks, indented under the first.
 */
export function optionHelp(defs: OptionDefs): string {
  const entries = Object.entries(defs);
  const anyShort = entries.some(([, def]) => def.short !== undefined);
  const labels = entries.map(([name, def]) => {
    const short = def.short !== undefined ? `-${def.short}, ` : anyShort ? "    " : "";
    return `${short}--${name}${def.value ? ` ${def.value}` : ""}`;
  });
  const width = Math.max(...labels.map((label) => label.length));
  return entries
    .map(([, def], i) => {
      const [first, ...more] = def.help.split("\n");
      const indent = " ".repeat(width + 4);
      return [
        `  ${(labels[i] as string).padEnd(width)}  ${first}`,
        ...more.map((l) => indent + l),
      ].join("\n");
    })
    .join("\n");
}
