import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // storage "auto" would reach the developer's own keyring over the desktop session bus; tests
    // that want a keyring start their own (testkit startKeyring) and pass its bus explicitly.
    env: { DBUS_SESSION_BUS_ADDRESS: "", XDG_RUNTIME_DIR: "" },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
