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
  /**
   * Makes the daemon crash in the middle of the next Secret Service call, as gnome-keyring does
   * when clients come and go quickly (an upstream race: GNOME gnome-keyring issues 190, 194, 196;
   * it aborts with "gkd_secret_service_get_pkcs11_session: assertion 'client' failed"), and has a
   * successor take over, as systemd restarts it on a desktop. Resolves once armed: the daemon is
   * frozen (SIGSTOP) and its successor waits in the queue for the name. `crashed` settles once a
   * call has reached the frozen daemon and it was killed (SIGKILL): the bus answers that call
   * "Message recipient disconnected from message bus without replying" and hands the name to the
   * successor, which serves the same keyring, unlocked.
   */
  crashOnNextCall(): Promise<{ crashed: Promise<void> }>;
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
  <!-- A desktop session bus's limits (dbus's session.conf). Without them dbus-daemon applies its
       system-bus defaults (256 connections per user, 128 pending replies per connection), which
       a test with several processes can reach where no desktop would. -->
  <limit name="max_connections_per_user">100000</limit>
  <limit name="max_completed_connections">100000</limit>
  <limit name="max_incomplete_connections">10000</limit>
  <limit name="max_replies_per_connection">50000</limit>
  <limit name="max_match_rules_per_connection">50000</limit>
  <limit name="max_names_per_connection">50000</limit>
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
  /** A crash's frozen daemon, its successor before it takes over, the bus monitor watching. */
  const extras = new Set<RunningChild>();
  const stopDaemon = async () => {
    const current = daemon;
    daemon = undefined;
    if (current && current.child.exitCode === null) current.kill("SIGTERM");
    await current?.done.catch(() => undefined);
  };
  const close = async () => {
    await stopDaemon();
    // SIGKILL: a frozen (SIGSTOP) process would keep a SIGTERM pending for ever.
    for (const child of extras) if (child.child.exitCode === null) child.kill("SIGKILL");
    await Promise.all([...extras].map((child) => child.done.catch(() => undefined)));
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
    /** Asks the bus about the Secret Service name. */
    const aboutName = (method: "NameHasOwner" | "GetNameOwner" | "ListQueuedOwners") =>
      run(
        "dbus-send",
        [
          "--session",
          "--print-reply",
          "--dest=org.freedesktop.DBus",
          "/org/freedesktop/DBus",
          `org.freedesktop.DBus.${method}`,
          `string:${SECRETS_NAME}`,
        ],
        env,
      );
    const hasOwner = async () => (await aboutName("NameHasOwner")).includes("boolean true");
    /** How many connections hold or wait for the name (the owner first). */
    const queued = async () =>
      (await hasOwner())
        ? [...(await aboutName("ListQueuedOwners")).matchAll(/string ":/g)].length
        : 0;
    /** Polls `check` every 25 ms, about 5 s at most; fails early when `child` exits. */
    const waitFor = async (what: string, child: RunningChild, check: () => Promise<boolean>) => {
      for (let i = 0; i < 200; i += 1) {
        if (await check()) return;
        if (child.child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`${what}: ${child.output().all}`);
    };
    // --unlock reads the password from stdin: it creates the login keyring with it on the first
    // start and unlocks it on the next.
    const spawnDaemon = (replace: boolean) =>
      startChild(
        "gnome-keyring-daemon",
        ["--foreground", ...(replace ? ["--replace"] : []), "--unlock", "--components=secrets"],
        { env, stdin: PASSWORD },
      );
    const startDaemon = async () => {
      const current = spawnDaemon(true);
      daemon = current;
      await waitFor(`gnome-keyring-daemon did not take ${SECRETS_NAME}`, current, hasOwner);
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
      async crashOnNextCall() {
        const victim = daemon;
        if (!victim) throw new Error("the keyring daemon is not running");
        const monitor = startChild("dbus-monitor", ["--session", "type='method_call'"], { env });
        extras.add(monitor);
        // It prints the NameLost of its own name once it has become a monitor.
        await waitFor("dbus-monitor did not start", monitor, async () =>
          monitor.output().stdout.includes("member=NameLost"),
        );
        // Clients call the name or, as libsecret does, the unique name of its owner.
        const owner = /string "(:[^"]+)"/.exec(await aboutName("GetNameOwner"))?.[1];
        victim.kill("SIGSTOP");
        extras.add(victim);
        const from = monitor.output().stdout.length;
        // No --replace: that would ask the frozen daemon to quit over its control socket, and wait.
        const successor = spawnDaemon(false);
        extras.add(successor);
        await waitFor("the successor did not queue for the name", successor, async () => {
          return (await queued()) === 2;
        });
        const called = () => {
          const calls = monitor.output().stdout.slice(from);
          return [SECRETS_NAME, owner].some((to) => calls.includes(`-> destination=${to} `));
        };
        const crashed = (async () => {
          for (let waited = 0; !called(); waited += 10) {
            if (waited > 30_000)
              throw new Error(
                `crashOnNextCall: no call came within 30 s: ${monitor.output().all.slice(from)}`,
              );
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          victim.kill("SIGKILL");
          await victim.done.catch(() => undefined);
          daemon = successor;
          extras.delete(successor);
          await waitFor("the successor did not take the name", successor, async () => {
            return (await queued()) === 1;
          });
          monitor.kill("SIGTERM");
          await monitor.done.catch(() => undefined);
        })();
        return { crashed };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
