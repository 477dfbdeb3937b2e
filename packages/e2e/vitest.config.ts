import { defineConfig } from "vitest/config";

// The real opencode is slow to start (~5 s) and CI has 2 cores: one file at a time.
export default defineConfig({
  test: {
    include: ["test/**/*.e2e.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
