import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Kafka, Connect, Debezium, the Pulumi CLI and its Kafka provider: built once, before any test file.
    globalSetup: ["tests/global-setup.ts"],
    // Integration tests start real PostgreSQL and S3 servers: give them room, and keep
    // file-level parallelism modest on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    pool: "forks",
  },
});
