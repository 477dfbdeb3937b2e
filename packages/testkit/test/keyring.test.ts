// The test keyring's crash: the daemon dies in the middle of a call and a successor serves the
// same keyring, as on a desktop that restarts gnome-keyring after it aborted.
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChild } from "../src/child.js";
import { startKeyring, type TestKeyring } from "../src/keyring.js";

let keyring: TestKeyring;
const attributes = { service: "testkit", username: "crash" };

beforeAll(async () => {
  keyring = await startKeyring();
  const stored = await startChild(
    "secret-tool",
    ["store", "--label=testkit crash", ...Object.entries(attributes).flat()],
    { env: keyring.env, stdin: "kept-across-the-crash", timeoutMs: 10_000 },
  ).done;
  expect(stored.code, stored.stderr).toBe(0);
});

afterAll(async () => {
  await keyring?.close();
});

describe("crashOnNextCall", () => {
  it("fails the call in flight, then the successor answers with the same keyring", async () => {
    const { crashed } = await keyring.crashOnNextCall();
    const during = keyring.lookup(attributes);
    await crashed;
    // secret-tool exits non-zero when its call goes unanswered: no secret read.
    expect(await during).toBeUndefined();
    expect(await keyring.lookup(attributes)).toBe("kept-across-the-crash");
  });
});

/** A client connection to the bus, authenticated (SASL EXTERNAL) and left idle. */
function openConnection(address: string): Promise<Socket> {
  const path = /unix:path=([^,]+)/.exec(address)?.[1];
  if (!path) throw new Error(`not a unix:path address: ${address}`);
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => {
      const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString("hex");
      socket.write(`\0AUTH EXTERNAL ${uid}\r\n`);
    });
    socket.once("data", (reply) => {
      if (!reply.toString().startsWith("OK ")) return reject(new Error(reply.toString()));
      socket.write("BEGIN\r\n");
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("the bus closed the connection")));
    socket.setTimeout(5_000, () => reject(new Error("the bus did not answer the authentication")));
  });
}

describe("the bus", () => {
  it("has a desktop session bus's limits: 300 clients at once, and the keyring still answers", async () => {
    // dbus-daemon's own default is 256 connections per user; a desktop's session.conf lifts it.
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 300; i += 1) {
        sockets.push(await openConnection(keyring.env.DBUS_SESSION_BUS_ADDRESS));
      }
      expect(await keyring.lookup(attributes)).toBe("kept-across-the-crash");
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
