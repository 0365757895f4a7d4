import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One temporary folder for the run, removed at its end (first: torn down last); one Kafka
    // broker shared by the stream tests (test/stream/), started on first use.
    globalSetup: ['test/support/temp-root.ts', 'test/stream/global-setup.ts'],
    // Two cores: real servers per file, so keep the parallelism honest.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
