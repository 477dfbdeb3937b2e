/** How the demo talks: numbered steps, indented output, nothing fancy (it also runs in CI). */
export function createNarrator(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
) {
  let step = 0;
  return {
    step(title: string) {
      step += 1;
      write("");
      write(`[${step}] ${title}`);
    },
    show(text: string) {
      for (const line of text.trimEnd().split("\n")) write(`    ${line}`);
    },
    done(text: string) {
      write("");
      write(text);
    },
  };
}
