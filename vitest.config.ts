import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Simulations and synthesis runs take seconds each; speed is measured in the benchmark, not here.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    globalSetup: ['test/setup/tools.ts'],
  },
});
