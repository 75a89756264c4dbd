#!/usr/bin/env node
// `cdc-scd2`: the command line of the SCD2 job. Exit codes: 0 success, 1 the job failed (the message
// names the file or table), 2 bad arguments (the message names the flag), 3 the run is committed but
// the Glue catalog (--glue-database) could not be brought up to date, 130/143 stopped by a signal.
import { Command, CommanderError } from "commander";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import * as path from "node:path";
import { z } from "zod";
import { DEFAULT_TABLES, DEFAULT_TOPIC_PREFIX } from "../../common/pipeline";
import { glueClientFromEnvironment, updateCatalog } from "./catalog";
import { DEFAULT_MEMORY_LIMIT } from "./duck";
import { makeDirsSync, unusableDirReason } from "./mkdirs";
import { launchedThroughNpm, watchParent } from "./parent";
import { messageOf } from "./errors";
import { Scd2Error, runScd2 } from "./job";
import type { ColumnEncoding, TableSpec } from "./job";
import { parseReconcile } from "./scd2/reconcile";
import type { ReconcileWindow } from "./scd2/reconcile";
import { createReporter } from "./report";
import { LOCK_KEY, parseLockBody } from "./state/lock";
import { DirectoryStorage, StorageError, openStorage } from "./storage";
import type { Storage } from "./storage";
import { createWorkDir } from "./workdir";

const EXIT = { ok: 0, failed: 1, usage: 2, catalog: 3 } as const;

/** A bad command-line value; the message names the flag and the value. */
class UsageError extends Error {}

// ---- argument validation (zod) ----

const identifier = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const tableName = z
  .string()
  .refine((t) => t.split(".").length === 2 && t.split(".").every((p) => identifier.test(p)), {
    message: "expected <schema>.<table>, e.g. commerce.products",
  });
const FIXED_ENCODINGS: readonly string[] = [
  ...["micro", "milli", "nano"].flatMap((unit) => [`${unit}-timestamp`, `${unit}-time`]),
  "zoned-timestamp",
  "date",
  "micro-duration",
  "variable-scale-decimal",
  "as-is",
];
const encoding = z
  .string()
  .refine(
    (s) => {
      const decimal = /^decimal\((\d+),(\d+)\)$/.exec(s);
      if (!decimal) return FIXED_ENCODINGS.includes(s);
      const [precision, scale] = [Number(decimal[1]), Number(decimal[2])];
      return precision >= 1 && precision <= 38 && scale <= precision;
    },
    { message: `expected one of ${FIXED_ENCODINGS.join(", ")} or decimal(p,s) with 1 <= p <= 38, s <= p` },
  )
  .transform((s) => s as ColumnEncoding);
const columnList = z
  .array(z.string().regex(identifier, "expected column names"))
  .min(1, "expected at least one column");
const tableConfigFile = z.record(
  tableName,
  z.strictObject({
    primaryKey: columnList.optional(),
    columnTypes: z.record(z.string(), encoding).optional(),
  }),
);
const flagSchemas = {
  "--topic-prefix": z.string().regex(/^[A-Za-z0-9._-]+$/, "expected a Kafka topic prefix such as cdc"),
  "--memory-limit": z
    .string()
    .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, "expected a size such as 512MB or 2GiB"),
  "--threads": z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, "expected a whole number from 1 to 9999")
    .transform(Number),
  "--glue-database": z
    .string()
    .regex(/^[a-z0-9_]{1,255}$/, "expected a Glue database name: lower-case letters, digits and _"),
  "--log-level": z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
};

/** Validates `value`; a failure names the flag and the value the user gave (`shown`). */
function check<T>(schema: z.ZodType<T>, flag: string, value: unknown, shown: unknown = value): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const reasons = parsed.error.issues.map((i) =>
    i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message,
  );
  throw new UsageError(`invalid ${flag} ${JSON.stringify(shown)}: ${reasons.join("; ")}`);
}

/** Splits the `<target>=<value>` of a repeatable flag; `shape` tells the user what was expected. */
function splitAssignment(flag: string, value: string, shape: string): [string, string] {
  const at = value.indexOf("=");
  if (at <= 0 || at === value.length - 1) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: expected ${shape}`);
  }
  return [value.slice(0, at), value.slice(at + 1)];
}

interface RawRunOptions {
  source: string;
  output: string;
  tables?: string;
  topicPrefix: string;
  fullRefresh: boolean;
  requireFiles: boolean;
  primaryKey?: string[];
  columnType?: string[];
  tableConfig?: string;
  memoryLimit?: string;
  threads?: string;
  workDir?: string;
  glueDatabase?: string;
  reconcile?: string[];
  logLevel: string;
}

/** --reconcile windows; each names one of the tables to build. */
function reconcileWindows(values: readonly string[], tables: readonly TableSpec[]): ReconcileWindow[] {
  return values.map((value) => {
    let window: ReconcileWindow;
    try {
      window = parseReconcile(value);
    } catch (error) {
      throw new UsageError(`invalid --reconcile ${JSON.stringify(value)}: ${(error as Error).message}`);
    }
    if (!tables.some((t) => t.table === window.table))
      throw new UsageError(
        `invalid --reconcile ${JSON.stringify(value)}: ${window.table} is not in --tables`,
      );
    return window;
  });
}

/** Table specs from --tables, --table-config, --primary-key and --column-type (flags win over the file). */
function buildTableSpecs(raw: RawRunOptions): TableSpec[] {
  let fromFile: z.infer<typeof tableConfigFile> = {};
  if (raw.tableConfig !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(raw.tableConfig, "utf8"));
    } catch (error) {
      throw new UsageError(
        `invalid --table-config ${JSON.stringify(raw.tableConfig)}: ${(error as Error).message}`,
      );
    }
    fromFile = check(tableConfigFile, `--table-config ${raw.tableConfig}`, json);
  }
  const names =
    raw.tables !== undefined
      ? raw.tables.split(",").map((t) => check(tableName, "--tables", t.trim()))
      : Object.keys(fromFile).length > 0
        ? Object.keys(fromFile)
        : DEFAULT_TABLES;
  if (new Set(names).size !== names.length)
    throw new UsageError(`invalid --tables ${JSON.stringify(raw.tables)}: a table is listed twice`);
  const specs = new Map<string, TableSpec>(
    names.map((table) => [
      table,
      {
        table,
        primaryKey: fromFile[table]?.primaryKey ?? ["id"],
        columnTypes: { ...fromFile[table]?.columnTypes },
      },
    ]),
  );
  const specFor = (flag: string, value: string, table: string): TableSpec => {
    const spec = specs.get(table);
    if (!spec)
      throw new UsageError(
        `invalid ${flag} ${JSON.stringify(value)}: table ${table} is not in --tables (${names.join(",")})`,
      );
    return spec;
  };
  for (const value of raw.primaryKey ?? []) {
    const [table, columns] = splitAssignment("--primary-key", value, "<schema>.<table>=<col>[,<col>]");
    const spec = specFor("--primary-key", value, check(tableName, "--primary-key", table, value));
    spec.primaryKey = check(columnList, "--primary-key", columns.split(","), value);
  }
  for (const value of raw.columnType ?? []) {
    const [target, enc] = splitAssignment("--column-type", value, "<schema>.<table>.<column>=<encoding>");
    const dot = target.lastIndexOf(".");
    const table = check(tableName, "--column-type", target.slice(0, Math.max(dot, 0)), value);
    const column = check(
      z.string().regex(identifier, "expected a column name"),
      "--column-type",
      target.slice(dot + 1),
      value,
    );
    specFor("--column-type", value, table).columnTypes![column] = check(
      encoding,
      "--column-type",
      enc,
      value,
    );
  }
  return [...specs.values()];
}

// ---- the run command ----

async function run(raw: RawRunOptions): Promise<number> {
  const logLevel = check(flagSchemas["--log-level"], "--log-level", raw.logLevel);
  const topicPrefix = check(flagSchemas["--topic-prefix"], "--topic-prefix", raw.topicPrefix);
  const memoryLimit =
    raw.memoryLimit === undefined
      ? undefined
      : check(flagSchemas["--memory-limit"], "--memory-limit", raw.memoryLimit);
  const threads =
    raw.threads === undefined ? undefined : check(flagSchemas["--threads"], "--threads", raw.threads);
  const glueDatabase =
    raw.glueDatabase === undefined
      ? undefined
      : check(flagSchemas["--glue-database"], "--glue-database", raw.glueDatabase);
  const tables = buildTableSpecs(raw);
  const reconcile = reconcileWindows(raw.reconcile ?? [], tables);
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
  const stop = (signal: NodeJS.Signals, why = `stopped by ${signal}`): void => {
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
      logger: reporter.logger,
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
