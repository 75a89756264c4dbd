/**
 * `npm start`: the whole data path on this machine, on a real PostgreSQL, without AWS.
 * Exit codes: 0 success, 1 the pipeline failed (the message says where), 2 bad options,
 * 129/130/143 stopped by SIGHUP/SIGINT/SIGTERM (what was started is stopped first).
 */
import { Command } from "commander";
import { join, resolve } from "node:path";
import { z } from "zod";
import { parseCommandLine } from "../common/cli";
import { runLocalPipeline } from "./pipeline";
import { createReporter } from "./progress";
import { REPO_ROOT } from "./scd2";

const optionsSchema = z.strictObject({
  duration: z.coerce
    .number()
    .positive("must be a positive number of seconds")
    .max(3600, "must be at most 3600 s"),
  rate: z.coerce
    .number()
    .int("must be a whole number")
    .positive("must be positive")
    .max(5000, "must be at most 5000"),
  seed: z.coerce.number().int("must be a whole number").nonnegative("must not be negative"),
  keepRunning: z.boolean(),
  fresh: z.boolean(),
  localDir: z.string().min(1, "must not be empty"),
});

function parseOptions(argv: string[]): z.output<typeof optionsSchema> {
  const program = new Command("npm start")
    .description("Run the CDC pipeline locally: PostgreSQL, capture, workload, SCD2 job, summary")
    .option("--duration <seconds>", "how long the workload runs", "15")
    .option("--rate <tx/s>", "workload transactions per second", "40")
    .option("--seed <n>", "seed of the workload's random choices", String(Date.now() % 1_000_000))
    .option(
      "--keep-running",
      "leave PostgreSQL and the capture running after the summary (Ctrl-C stops)",
      false,
    )
    .option("--fresh", "wipe the local directory (database, bucket, SCD2 output) first", false)
    .option(
      "--local-dir <dir>",
      "where the database, bucket and SCD2 output live",
      join(REPO_ROOT, ".local"),
    );
  return parseCommandLine(program, argv, "npm start", optionsSchema);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const controller = new AbortController();
  let exitCode = 0;
  let stoppedBy = "";
  for (const [signal, code] of [
    ["SIGHUP", 129],
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    // `on`, not `once`: while this listener is there, the embedded server's own exit hook leaves
    // shutdown to npm start, which stops everything in order (capture flushed, then the server).
    process.on(signal, () => {
      exitCode = code;
      stoppedBy = signal;
      controller.abort();
    });
  }
  const reporter = createReporter();
  try {
    await runLocalPipeline(
      {
        durationMs: options.duration * 1000,
        rate: options.rate,
        seed: options.seed,
        keepRunning: options.keepRunning,
        fresh: options.fresh,
        localDir: resolve(options.localDir),
        ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
        signal: controller.signal,
      },
      reporter,
    );
  } catch (error) {
    if (stoppedBy === "") {
      reporter.logger.error({ err: error }, "local pipeline failed");
      process.stderr.write(`\nnpm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
      exitCode = 1;
    }
  }
  // A signal ends the run whether a step noticed it or failed because of it (a connection closed).
  if (stoppedBy !== "") process.stderr.write(`npm start: stopped by ${stoppedBy}\n`);
  process.exit(exitCode);
}

void main();
