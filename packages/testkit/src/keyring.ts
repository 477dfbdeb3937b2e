import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningChild, startChild } from "./child.js";

/**
 * A real OS keyring for one test file: `gnome-keyring-daemon` (its Secret Service part) on a
 * private D-Bus session bus, unlocked with a password, in a temp dir. Debian packages
 * `gnome-keyring`, `dbus` and `libsecret-tools` (.ci/run installs them). Nothing of the user's
 * own session is touched: the bus is new, its config names no service to auto-start, and HOME
 * and XDG_RUNTIME_DIR point into the temp dir, where the keyring file is created.
 */

export interface TestKeyring {
  /** Give these to a process (or `process.env`) for it to use this keyring. */
  readonly env: {
    DBUS_SESSION_BUS_ADDRESS: string;
    XDG_RUNTIME_DIR: string;
    HOME: string;
    XDG_DATA_HOME: string;
  };
  /** The secret stored under `attributes`, read by `secret-tool lookup` (libsecret): a reader
   * independent of the code under test. Undefined when there is none. */
  lookup(attributes: Record<string, string>): Promise<string | undefined>;
  /** Every item whose attributes include `attributes` (`secret-tool search --all`), as the
   * attributes of each; never the secrets. */
  search(attributes: Record<string, string>): Promise<Array<Record<string, string>>>;
  /** Locks the keyring (as a screen lock does): reads and writes then fail until `unlock`. */
  lock(): Promise<void>;
  /** Starts the daemon again with the password, which unlocks the keyring; items are kept. */
  unlock(): Promise<void>;
  /** Stops the daemon and the bus, then removes the temp dir. */
  close(): Promise<void>;
}

const PASSWORD = "testkit-keyring";
const SECRETS_NAME = "org.freedesktop.secrets";
const LOGIN_COLLECTION = "/org/freedesktop/secrets/collection/login";

function busConfig(dir: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

/** Runs a tool to completion; rejects with its output when it fails. */
async function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin?: string,
): Promise<string> {
  const result = await startChild(command, args, {
    env,
    timeoutMs: 10_000,
    ...(stdin === undefined ? {} : { stdin }),
  }).done;
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  }
  return result.stdout;
}

/** Resolves with the bus address dbus-daemon prints once it listens. */
function startBus(configFile: string, env: NodeJS.ProcessEnv): Promise<[RunningChild, string]> {
  const bus = startChild(
    "dbus-daemon",
    ["--config-file", configFile, "--nofork", "--nopidfile", "--print-address=1"],
    { env },
  );
  return new Promise((resolve, reject) => {
    bus.child.stdout?.on("data", () => {
      const line = bus.output().stdout.split("\n")[0];
      if (line && bus.output().stdout.includes("\n")) resolve([bus, line.trim()]);
    });
    bus.child.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new Error("dbus-daemon is not installed: apt-get install dbus")
          : error,
      ),
    );
    bus.done.then((r) => reject(new Error(`dbus-daemon exited (${r.code}): ${r.stderr}`)), reject);
  });
}

export async function startKeyring(): Promise<TestKeyring> {
  const root = await mkdtemp(join(tmpdir(), "testkit-keyring-"));
  const runtime = join(root, "run");
  const home = join(root, "home");
  await mkdir(runtime, { recursive: true });
  await chmod(runtime, 0o700);
  await mkdir(home, { recursive: true });
  const configFile = join(root, "bus.conf");
  await writeFile(configFile, busConfig(root));
  const base = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_RUNTIME_DIR: runtime };
  let bus: RunningChild | undefined;
  let daemon: RunningChild | undefined;
  const stopDaemon = async () => {
    const current = daemon;
    daemon = undefined;
    if (current && current.child.exitCode === null) current.kill("SIGTERM");
    await current?.done.catch(() => undefined);
  };
  const close = async () => {
    await stopDaemon();
    if (bus && bus.child.exitCode === null) bus.kill("SIGTERM");
    await bus?.done.catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  };
  try {
    const [started, address] = await startBus(configFile, base);
    bus = started;
    const env = {
      ...base,
      DBUS_SESSION_BUS_ADDRESS: address,
      XDG_DATA_HOME: join(home, ".local", "share"),
    };
    const hasOwner = async () =>
      (
        await run(
          "dbus-send",
          [
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            `string:${SECRETS_NAME}`,
          ],
          env,
        )
      ).includes("boolean true");
    const startDaemon = async () => {
      // --unlock reads the password from stdin: it creates the login keyring with it on the
      // first start and unlocks it on the next.
      daemon = startChild(
        "gnome-keyring-daemon",
        ["--foreground", "--replace", "--unlock", "--components=secrets"],
        { env, stdin: PASSWORD },
      );
      for (let i = 0; i < 200; i += 1) {
        if (await hasOwner()) return;
        if (daemon.child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`gnome-keyring-daemon did not take ${SECRETS_NAME}: ${daemon.output().all}`);
    };
    await startDaemon();
    const attrs = (attributes: Record<string, string>) => Object.entries(attributes).flat();
    return {
      env,
      async lookup(attributes) {
        const result = await startChild("secret-tool", ["lookup", ...attrs(attributes)], {
          env,
          timeoutMs: 10_000,
        }).done;
        // secret-tool exits 1 with no output when nothing matches.
        return result.code === 0 ? result.stdout : undefined;
      },
      async search(attributes) {
        const result = await startChild("secret-tool", ["search", "--all", ...attrs(attributes)], {
          env,
          timeoutMs: 10_000,
        }).done;
        const items: Array<Record<string, string>> = [];
        // It prints each item's attributes on stdout as `attribute.NAME = VALUE`, one block per
        // item starting with `[/path]`; the secrets (on `secret = `) are not kept.
        for (const line of `${result.stdout}\n${result.stderr}`.split("\n")) {
          if (line.startsWith("[")) items.push({});
          const match = /^attribute\.(\S+) = (.*)$/.exec(line);
          const item = items.at(-1);
          if (match?.[1] && item) item[match[1]] = match[2] ?? "";
        }
        return items;
      },
      async lock() {
        await run(
          "dbus-send",
          [
            "--session",
            "--print-reply",
            `--dest=${SECRETS_NAME}`,
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            `array:objpath:${LOGIN_COLLECTION}`,
          ],
          env,
        );
      },
      async unlock() {
        await stopDaemon();
        await startDaemon();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
