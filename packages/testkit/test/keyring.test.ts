// The test keyring's crash: the daemon dies in the middle of a call and a successor serves the
// same keyring, as on a desktop that restarts gnome-keyring after it aborted.
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
