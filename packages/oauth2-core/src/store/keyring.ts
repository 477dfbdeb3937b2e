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

type Entry = InstanceType<Binding["AsyncEntry"]>;

/**
 * One binding entry per keyring entry and session bus, kept for the life of the process: each
 * holds a D-Bus connection and its Secret Service session. A new one per call opened a session
 * per call and closed the connection whenever the garbage collector came by, and gnome-keyring
 * aborts when a client is gone before it handled its request (an upstream race: GNOME
 * gnome-keyring issues 190, 194, 196, "gkd_secret_service_get_pkcs11_session: assertion 'client'
 * failed"), taking every other caller's request with it.
 */
const entries = new Map<string, Entry>();

/** The daemon went away in the middle of the call (the bus's NoReply), or was restarted since
 * this connection opened its session. */
const DAEMON_GONE =
  /disconnected from message bus without replying|session (?:wrapping the secret )?does not exist/i;
/** The daemon did not answer within the binding's 2 s (libdbus's own NoReply): a busy machine. */
const DAEMON_SLOW = /did not receive a reply/i;

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Whether a second try can mend `err`. The binding tells failures apart only by their message.
 * A locked keyring or a dismissed prompt is not among them: a second prompt would only ask the
 * user again.
 */
function retryable(err: unknown): boolean {
  return DAEMON_GONE.test(messageOf(err)) || DAEMON_SLOW.test(messageOf(err));
}

/** Called before the one retry of a keyring call, with what failed. */
export type OnRetry = (reason: string) => void;

async function call<T>(
  ref: KeyringRef,
  op: (entry: Entry, signal: AbortSignal) => Promise<T>,
  onRetry?: OnRetry,
): Promise<T> {
  const noBus = missingSessionBus();
  if (noBus) throw new KeyringUnavailable(noBus);
  const signal = AbortSignal.timeout(KEYRING_TIMEOUT_MS);
  const key = JSON.stringify([process.env.DBUS_SESSION_BUS_ADDRESS, ref.service, ref.account]);
  const attempt = async () => {
    const { AsyncEntry } = await loadBinding();
    let entry = entries.get(key);
    if (!entry) {
      // Pinned to the Secret Service: keyring-rs would otherwise fall back to the kernel keyring,
      // which forgets everything at logout or reboot — a login that silently does not last.
      entry = new AsyncEntry(ref.service, ref.account, { linux: { store: "secret-service" } });
      entries.set(key, entry);
    }
    try {
      return await op(entry, signal);
    } catch (err) {
      // Its connection or session may be dead: the next call opens new ones. A slow daemon's
      // connection is kept: closing it with a request still queued trips the race above.
      if (!DAEMON_SLOW.test(messageOf(err))) entries.delete(key);
      throw err;
    }
  };
  try {
    try {
      return await attempt();
    } catch (err) {
      if (!retryable(err) || signal.aborted) throw err;
      onRetry?.(reasonOf(err));
      return await attempt();
    }
  } catch (err) {
    throw new KeyringUnavailable(reasonOf(err), { cause: err });
  }
}

/** What went wrong, in one line: the binding's messages name the platform's failure. */
function reasonOf(err: unknown): string {
  if (err instanceof Error && err.name === "TimeoutError") {
    return `the keyring did not answer within ${KEYRING_TIMEOUT_MS / 1000} s (a hidden unlock prompt?)`;
  }
  return messageOf(err).split("\n")[0]?.slice(0, 300) ?? "unknown error";
}

/** The stored text, or undefined when the keyring has no such entry. */
export async function getSecret(ref: KeyringRef, onRetry?: OnRetry): Promise<string | undefined> {
  const value = await call(ref, (entry, signal) => entry.getPassword(signal), onRetry);
  return value ?? undefined;
}

export async function setSecret(ref: KeyringRef, value: string, onRetry?: OnRetry): Promise<void> {
  await call(ref, (entry, signal) => entry.setPassword(value, signal), onRetry);
}

/** True when an entry was removed, false when there was none. */
export async function deleteSecret(ref: KeyringRef, onRetry?: OnRetry): Promise<boolean> {
  return call(ref, (entry, signal) => entry.deleteCredential(signal), onRetry);
}
