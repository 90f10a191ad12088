import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Simulations and synthesis runs take seconds each; speed is measured in the benchmark, not here.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // A test file spends most of its time waiting on a simulator, Yosys or nextpnr in another process, so one file per
    // core keeps the cores busy (vitest's default, cores − 1, runs one file at a time on 2 cores). Every test file
    // works in its own temporary folders; the synthesis cache is written atomically.
    maxWorkers: Math.max(2, availableParallelism()),
    globalSetup: ['test/setup/tools.ts'],
  },
});
