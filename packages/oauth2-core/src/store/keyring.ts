import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * The OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows)
 * through `@napi-rs/keyring`. This module is imported only when a token is stored in, read
 * from or removed from the keyring: a start whose tokens live in the file never loads the
 * native binding.
 */

/** Where one provider's secrets are in the keyring; the token file records it. */
export interface KeyringRef {
  service: string;
  account: string;
}

/** The keyring did not answer: no Secret Service on the bus, a locked keyring, no binding. */
export class KeyringUnavailable extends Error {
  override readonly name = "KeyringUnavailable";
}

/**
 * A keyring call may wait for a desktop unlock prompt; bounded so that a prompt nobody sees
 * cannot hold a token request for ever.
 */
const KEYRING_TIMEOUT_MS = 15_000;

type Binding = typeof import("@napi-rs/keyring");
let binding: Promise<Binding> | undefined;

function loadBinding(): Promise<Binding> {
  // CommonJS with a native addon: its module.exports is the default export, in Node and Bun.
  binding ??= import("@napi-rs/keyring").then((m) => (m as { default: Binding }).default ?? m);
  return binding;
}

/**
 * Why the Secret Service cannot answer on this Linux machine, when that is plain without loading
 * the binding: no session bus address, and none at libdbus's default place. Servers, containers
 * and CI look like this; loading the native module there (a synchronous dlopen, 100+ ms on a busy
 * machine) would only find out the same, and `auto` would pay for it on every first write.
 */
function missingSessionBus(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform !== "linux" || env.DBUS_SESSION_BUS_ADDRESS) return undefined;
  if (env.XDG_RUNTIME_DIR && existsSync(join(env.XDG_RUNTIME_DIR, "bus"))) return undefined;
  return "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and there is no $XDG_RUNTIME_DIR/bus";
}

async function call<T>(
  ref: KeyringRef,
  op: (entry: InstanceType<Binding["AsyncEntry"]>, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const noBus = missingSessionBus();
  if (noBus) throw new KeyringUnavailable(noBus);
  try {
    const { AsyncEntry } = await loadBinding();
    // Pinned to the Secret Service: keyring-rs would otherwise fall back to the kernel keyring,
    // which forgets everything at logout or reboot — a login that silently does not last.
    const entry = new AsyncEntry(ref.service, ref.account, { linux: { store: "secret-service" } });
    return await op(entry, AbortSignal.timeout(KEYRING_TIMEOUT_MS));
  } catch (err) {
    throw new KeyringUnavailable(reasonOf(err), { cause: err });
  }
}

/** What went wrong, in one line: the binding's messages name the platform's failure. */
function reasonOf(err: unknown): string {
  if (err instanceof Error && err.name === "TimeoutError") {
    return `the keyring did not answer within ${KEYRING_TIMEOUT_MS / 1000} s (a hidden unlock prompt?)`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0]?.slice(0, 300) ?? "unknown error";
}

/** The stored text, or undefined when the keyring has no such entry. */
export async function getSecret(ref: KeyringRef): Promise<string | undefined> {
  const value = await call(ref, (entry, signal) => entry.getPassword(signal));
  return value ?? undefined;
}

export async function setSecret(ref: KeyringRef, value: string): Promise<void> {
  await call(ref, (entry, signal) => entry.setPassword(value, signal));
}

/** True when an entry was removed, false when there was none. */
export async function deleteSecret(ref: KeyringRef): Promise<boolean> {
  return call(ref, (entry, signal) => entry.deleteCredential(signal));
}
