#!/usr/bin/env node
/**
 * `cdc-connect-local --source <file.json> --sink <file.json> --bucket-root <dir>`: runs a Debezium
 * PostgreSQL source config and a Confluent S3 sink config without Kafka. SIGTERM/SIGINT flush what
 * is held and exit 0 (during start-up they exit 0 at once); a failure exits 1 with the reason; a bad
 * option exits 2 naming it.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, Option } from "commander";
import { z } from "zod";
import { parseCommandLine } from "../../common/cli";
import { createProgress, type ProgressBar } from "../../common/progress";
import type { ConnectorInput } from "./connector-input";
import { startConnectorRuntime, type ConnectorRuntime } from "./runtime";

/** Reads a connector JSON file; its shape and keys are validated by the runtime. */
function readJson(path: string, what: string): ConnectorInput {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read the ${what} config ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as ConnectorInput;
  } catch (err) {
    throw new Error(`the ${what} config ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** What commander hands over; its own checks (required options, --log-level choices) come first. */
const optionsSchema = z.object({
  source: z.string(),
  sink: z.string(),
  bucketRoot: z.string(),
  logLevel: z.string(),
});

async function main(argv: string[]): Promise<void> {
  const program = new Command("cdc-connect-local")
    .description("Run a Debezium PostgreSQL source and a Confluent S3 sink config locally, without Kafka")
    .requiredOption("--source <file>", "source connector JSON ({name, config} or a flat config map)")
    .requiredOption("--sink <file>", "S3 sink connector JSON ({name, config} or a flat config map)")
    .requiredOption(
      "--bucket-root <dir>",
      "directory standing in for S3 (objects under <dir>/<s3.bucket.name>/)",
    )
    .addOption(
      new Option("--log-level <level>", "log level of the JSON log (off a terminal)")
        .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
        .default("info"),
    );
  const opts = parseCommandLine(program, argv, "cdc-connect-local", optionsSchema);
  // A running count on a terminal; a JSON line every 10 s otherwise.
  const progress = createProgress({
    component: "cdc-connect-local",
    level: opts.logLevel,
    jsonIntervalMs: 10_000,
  });
  const logger = progress.logger;
  // Set once started; a failure or signal during start-up has nothing to stop yet.
  const state: { runtime?: ConnectorRuntime; stopping?: boolean } = {};
  let exiting = false;
  const exit = (code: number, err?: Error): void => {
    if (exiting) return;
    exiting = true;
    if (err) {
      logger.error({ err }, "cdc-connect-local failed");
      process.stderr.write(`cdc-connect-local: ${err.message}\n`);
    }
    process.exit(code);
  };
  // The progress display, set up once streaming.
  const display: { bar?: ProgressBar; timer?: NodeJS.Timeout } = {};
  const shutdown = (signal: string): void => {
    const runtime = state.runtime;
    if (!runtime) {
      // Still starting (connecting, snapshotting): exiting now is what a kill would be, which the next
      // start recovers from (files land whole, the slot is acknowledged only up to durable files).
      logger.info({ signal }, "stopping during start-up");
      exit(0);
      return;
    }
    if (state.stopping) return;
    state.stopping = true;
    logger.info({ signal }, "flushing and stopping");
    clearInterval(display.timer);
    progress.close();
    runtime
      .stop()
      .then(() => {
        logger.info(runtime.stats(), "stopped");
        exit(0);
      })
      .catch((err: Error) => exit(1, err));
  };
  // Installed before anything starts: until then a signal's default action would kill the process.
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  const runtime = await startConnectorRuntime({
    source: readJson(opts.source, "source"),
    sink: readJson(opts.sink, "sink"),
    bucketRoot: resolve(opts.bucketRoot),
    logger,
    onError: (err) => {
      void (state.runtime?.stop() ?? Promise.resolve()).catch(() => undefined).finally(() => exit(1, err));
    },
  });
  state.runtime = runtime;
  logger.info({ bucketRoot: resolve(opts.bucketRoot) }, "streaming");
  const bar = progress.bar("progress", "captured records:");
  display.bar = bar;
  display.timer = setInterval(() => {
    const { records, ...stats } = runtime.stats();
    bar.update(records, { ...stats, acknowledgedLsn: stats.acknowledgedLsn ?? "-" });
  }, 500);
}

main(process.argv).catch((err: Error) => {
  process.stderr.write(`cdc-connect-local: ${err.message}\n`);
  process.exit(1);
});
