import { createTestCa, type ForwardProxy, type TestCa } from "@vymalo/testkit";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { CliHarness } from "./harness.js";

/**
 * The parts of a network test file: one test CA for the file, and the CLI harness and forward
 * proxy a test starts, closed after it.
 */
export interface NetworkParts {
  ca: TestCa;
  h: CliHarness | undefined;
  proxy: ForwardProxy | undefined;
}

/** Registers the file's hooks; the returned object holds the parts as the tests set them. */
export function useNetworkParts(): NetworkParts {
  const parts = { h: undefined, proxy: undefined } as unknown as NetworkParts;
  beforeAll(async () => {
    parts.ca = await createTestCa();
  });
  afterAll(async () => parts.ca?.cleanup());
  afterEach(async () => {
    await parts.proxy?.close();
    parts.proxy = undefined;
    await parts.h?.close();
    parts.h = undefined;
  });
  return parts;
}
