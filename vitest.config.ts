import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    // Effect's default logger (logfmt lines starting "timestamp=") writes what the code under test
    // logs; tests that assert on log lines capture them with a logger of their own.
    onConsoleLog: (log) => (log.startsWith("timestamp=") ? false : undefined)
  }
})
