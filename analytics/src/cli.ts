#!/usr/bin/env node
// `cdc-scd2`: the command line of the SCD2 job. Exit codes: 0 success, 1 the job failed (the message
// names the file or table), 2 bad arguments (the message names the flag), 3 the run is committed but
// the Glue catalog (--glue-database) could not be brought up to date, 130/143 stopped by a signal.
import { Command, CommanderError } from "commander";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import * as path from "node:path";
import { DEFAULT_TABLES, DEFAULT_TOPIC_PREFIX } from "../../common/pipeline";
import { glueClientFromEnvironment, updateCatalog } from "./catalog";
import { runFlags, UsageError, type RawRunOptions } from "./cli-options";
import { DEFAULT_MEMORY_LIMIT } from "./duck";
import { makeDirsSync, unusableDirReason } from "./mkdirs";
import { launchedThroughNpm, watchParent } from "./parent";
import { messageOf } from "./errors";
import { Scd2Error, runScd2 } from "./job";
import { createReporter } from "./report";
import { LOCK_KEY, parseLockBody } from "./state/lock";
import { DirectoryStorage, StorageError, openStorage } from "./storage";
import type { Storage } from "./storage";
import { createWorkDir } from "./workdir";

const EXIT = { ok: 0, failed: 1, usage: 2, catalog: 3 } as const;

// ---- the run command ----

async function run(raw: RawRunOptions): Promise<number> {
  const { logLevel, topicPrefix, memoryLimit, threads, glueDatabase, tables, reconcile } = runFlags(raw);
  const source = openFlagStorage("--source", raw.source);
  const output = openFlagStorage("--output", raw.output);
  if (source instanceof DirectoryStorage && !isDirectory(source.root)) {
    throw new UsageError(`invalid --source ${JSON.stringify(raw.source)}: ${source.root} is not a directory`);
  }
  for (const [flag, dir] of [
    ["--output", output instanceof DirectoryStorage ? output.root : undefined],
    ["--work-dir", raw.workDir],
  ] as const) {
    const reason = dir === undefined ? undefined : unusableDirReason(dir);
    if (reason !== undefined) throw new UsageError(`invalid ${flag} ${JSON.stringify(dir)}: ${reason}`);
  }

  const ownWorkDir = raw.workDir === undefined;
  const workDir = ownWorkDir ? createWorkDir(tmpdir()) : path.resolve(raw.workDir!);
  try {
    makeDirsSync(workDir);
  } catch (error) {
    throw new UsageError(`invalid --work-dir ${JSON.stringify(raw.workDir)}: ${(error as Error).message}`);
  }
  const cleanUp = (): void => {
    if (ownWorkDir) rmSync(workDir, { recursive: true, force: true });
  };

  const reporter = createReporter(logLevel);
  // The job's own log: silenced once a signal stops the run, whose lock this process then deletes; the
  // job, still running until the exit, would otherwise report that lock as lost.
  const jobLogger = reporter.logger.child({});
  const stop = (signal: NodeJS.Signals, why = `stopped by ${signal}`): void => {
    jobLogger.level = "silent";
    // The job only replaces output through atomic renames/PUTs and a manifest written last, so
    // stopping at any point leaves the previous output intact; the next run picks up from there.
    // Its run lock is released here: on Fargate the next task runs on another host and could not tell
    // that this process is gone, so it would wait for the lock to go stale.
    const code = signal === "SIGINT" ? 130 : 143;
    void releaseOwnLock(output)
      .catch((error: unknown) =>
        reporter.logger.warn({ error: messageOf(error) }, "could not release the run lock"),
      )
      .finally(() => {
        reporter.fail(`${why}; the previous output is left intact`);
        cleanUp();
        process.exit(code);
      });
  };
  // Node passes the signal's number as a second argument: not a reason.
  const onSignal = (signal: NodeJS.Signals): void => stop(signal);
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  const stopWatching = launchedThroughNpm(process.env)
    ? watchParent((pid) =>
        stop("SIGTERM", `stopped: the npm/npx process that started it (pid ${pid}) went away`),
      )
    : () => undefined;

  reporter.logger.info(
    {
      event: "run-started",
      source: source.uri,
      output: output.uri,
      tables: tables.map((t) => t.table),
      fullRefresh: raw.fullRefresh,
    },
    "run started",
  );
  try {
    const summary = await runScd2({
      source,
      output,
      tables,
      topicPrefix,
      fullRefresh: raw.fullRefresh,
      requireFiles: raw.requireFiles,
      reconcile,
      workDir,
      staleWorkDirs: tmpdir(),
      memoryLimit,
      threads,
      onProgress: (e) => reporter.onProgress(e),
      logger: jobLogger,
    });
    reporter.finish(summary);
    if (glueDatabase === undefined) return EXIT.ok;
    const problems = await updateCatalog(output, glueDatabase, glueClientFromEnvironment(), reporter.logger);
    return problems.length === 0 ? EXIT.ok : EXIT.catalog;
  } catch (error) {
    if (!(error instanceof Scd2Error || error instanceof StorageError))
      reporter.logger.debug({ err: error }, "unexpected error");
    reporter.fail(error instanceof Error ? error.message : String(error));
    return EXIT.failed;
  } finally {
    process.removeListener("SIGINT", onSignal).removeListener("SIGTERM", onSignal);
    stopWatching();
    cleanUp();
  }
}

/**
 * Deletes the output's run lock if this process holds it (see state/lock.ts for its body), only if it
 * is still the version read here: a lock another run took over meanwhile is left alone.
 */
async function releaseOwnLock(output: Storage): Promise<void> {
  const found = await output.readVersioned(LOCK_KEY);
  const holder = parseLockBody(found?.text);
  if (found && holder?.host === hostname() && holder.pid === process.pid) {
    await output.deleteIfVersion(LOCK_KEY, found.version);
  }
}

function openFlagStorage(flag: string, uri: string): ReturnType<typeof openStorage> {
  try {
    return openStorage(uri);
  } catch (error) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(uri)}: ${(error as Error).message}`);
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The package's version: its package.json is above src/ (from source) and dist/analytics/src/ (built). */
function packageVersion(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version: string };
    if (manifest.name === "@cdc/analytics") return manifest.version;
  }
  throw new Error(`the @cdc/analytics package.json is not above ${__dirname}`);
}

function program(): Command {
  const version = packageVersion();
  const cli = new Command("cdc-scd2")
    .description(
      "Builds SCD Type 2 history tables from CDC change files (Debezium + S3 sink layout) with DuckDB.",
    )
    .version(version)
    .exitOverride()
    .showHelpAfterError("(add --help for the options)");
  cli
    .command("run")
    .description("build or incrementally update the SCD2 tables")
    .requiredOption("--source <dir|s3://bucket/prefix>", "the S3 sink's topics dir")
    .requiredOption("--output <dir|s3://bucket/prefix>", "where <table>/ SCD2 tables and _state/ are written")
    .option("--tables <list>", `comma-separated <schema>.<table> list (default: ${DEFAULT_TABLES.join(",")})`)
    .option("--topic-prefix <prefix>", "Debezium topic.prefix", DEFAULT_TOPIC_PREFIX)
    .option("--full-refresh", "rebuild from all source files instead of only new ones", false)
    .option(
      "--require-files",
      "fail when any table has no change files at all (default: only when no table has any)",
      false,
    )
    .option("--primary-key <table=col[,col]>", "primary key of a table (repeatable; default id)", collect)
    .option(
      "--column-type <table.column=encoding>",
      "encoding of a column, e.g. commerce.users.created_at=micro-timestamp (repeatable)",
      collect,
    )
    .option(
      "--table-config <file.json>",
      'per-table settings: {"commerce.products": {"primaryKey": ["id"], "columnTypes": {...}}}',
    )
    .option(
      "--memory-limit <size>",
      `DuckDB memory_limit, e.g. 4GB; beyond it DuckDB spills to --work-dir (default: ${DEFAULT_MEMORY_LIMIT})`,
    )
    .option("--threads <n>", "DuckDB threads (default: number of cores)")
    .option(
      "--work-dir <dir>",
      "scratch space for spills and staged downloads; kept, so S3 downloads are reused (default: a temp dir, removed)",
    )
    .option(
      "--glue-database <name>",
      "after the run, add the columns the SCD2 files gained to their Glue tables in this database and rewrite their Athena views",
    )
    .option(
      "--reconcile <table:requestedAt:doneAt>",
      "after a lost slot: close as deleted the keys a complete snapshot in this WAL window (cdc-resnapshot's report) no longer shows (repeatable)",
      collect,
    )
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent", "info")
    .action(async (options: RawRunOptions) => {
      process.exitCode = await run(options);
    });
  return cli;
}

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return Number(process.exitCode ?? EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage; // commander printed it
    if (error instanceof UsageError) {
      process.stderr.write(`cdc-scd2: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

void main(process.argv).then((code) => process.exit(code));
