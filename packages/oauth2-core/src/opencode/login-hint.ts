import { loginCommand } from "../errors.js";

/** How to log in, in words, for messages shown inside opencode. */
export function loginHint(providerId: string): string {
  return `run \`opencode auth login\` and choose "${providerId}", or \`${loginCommand(providerId)}\``;
}
