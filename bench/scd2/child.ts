// One measured run in its own process, so its peak RSS is its own: the SCD2 job (runScd2) or the
// baseline query. Prints one JSON line: { durationMs, maxRssBytes, summary? }.
import { DuckDBInstance } from "@duckdb/node-api";
import { mkdirSync } from "node:fs";
import * as path from "node:path";
import { runScd2 } from "../../analytics/src/job";
import { profileStatements } from "./profile";
import type { StatementProfile } from "./profile";
import { DirectoryStorage } from "../../analytics/src/storage";

export interface ChildArgs {
  mode: "job" | "baseline";
  source: string;
  output: string;
  workDir: string;
  fullRefresh: boolean;
  memoryLimit?: string;
  threads?: number;
  /** Time every SQL statement of the job and keep DuckDB's profile of each (where the time goes). */
  profile?: boolean;
}

export interface ChildResult {
  durationMs: number;
  maxRssBytes: number;
  summary?: unknown;
  /** With `profile`: the slowest statements, with the operators that took most of their time. */
  slowest?: StatementProfile[];
}

const sql = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * The plain query the job is measured against: every event, no dedupe, no decoding, no incremental
 * state; effective_to is the next event's commit time for the key in LSN order. It reads the same files
 * and writes its result as Parquet, with the same DuckDB settings as the job.
 */
async function baseline(args: ChildArgs): Promise<void> {
  const settings: Record<string, string> = {
    temp_directory: path.join(args.workDir, "duckdb-spill"),
    preserve_insertion_order: "false",
  };
  if (args.memoryLimit) settings.memory_limit = args.memoryLimit;
  if (args.threads) settings.threads = String(args.threads);
  const instance = await DuckDBInstance.create(":memory:", settings);
  const duck = await instance.connect();
  mkdirSync(args.output, { recursive: true });
  const files = sql(path.join(args.source, "**", "*.parquet"));
  await duck.run(
    `COPY (
       SELECT *, LEAD(__source_ts_ms) OVER (PARTITION BY id ORDER BY __lsn) AS effective_to_ms
       FROM read_parquet(${files}, hive_partitioning = false)
     ) TO ${sql(path.join(args.output, "baseline.parquet"))} (FORMAT parquet)`,
  );
  duck.closeSync();
  instance.closeSync();
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as ChildArgs;
  mkdirSync(args.workDir, { recursive: true });
  const profiler = args.profile ? await profileStatements(path.join(args.workDir, "profiles")) : undefined;
  const started = performance.now();
  let summary: unknown;
  if (args.mode === "baseline") {
    await baseline(args);
  } else {
    summary = await runScd2({
      source: new DirectoryStorage(path.resolve(args.source)),
      output: new DirectoryStorage(path.resolve(args.output)),
      tables: [{ table: "commerce.products" }],
      topicPrefix: "cdc",
      fullRefresh: args.fullRefresh,
      workDir: args.workDir,
      memoryLimit: args.memoryLimit,
      threads: args.threads,
    });
  }
  const result: ChildResult = {
    durationMs: Math.round(performance.now() - started),
    // maxRSS is in KiB; it covers DuckDB's native memory too (one process).
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    summary,
    slowest: profiler?.slowest(8),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
