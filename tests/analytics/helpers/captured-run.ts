/**
 * A real capture and SCD2 build for tests that need the job's output of a real workload: embedded
 * PostgreSQL with the source setup, the workload in phases, the local connector runtime, then the
 * SCD2 job as a subprocess (tsx analytics/src/cli.ts, as `npm start` runs it). After each phase, with
 * no transaction running, PostgreSQL records its own truth: the instant (clock_timestamp()) and every
 * row of each captured table at that instant, in side tables `truth.<table>` that are not published.
 * The capture keeps running until `close()`: `next()` makes more changes and runs the job again.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { PIPELINE_DEFAULTS, topicForTable } from "../../../connectors/config";
import { applySourceSetup } from "../../../connectors/database";
import { startConnectorRuntime, type ConnectorRuntime } from "../../../connectors/local";
import { waitForRecords } from "../../../local/bucket";
import { LOCAL_BUCKET, localConnectorConfigs, PASSWORD_ENV } from "../../../local/pipeline";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../../local/postgres";
import { runScd2Job } from "../../../local/scd2";
import type { TableSummary } from "../../../analytics/src/job";
import { Workload, type CapturedTable } from "../../../local/workload";

export const CAPTURED: readonly CapturedTable[] = PIPELINE_DEFAULTS.tables as readonly CapturedTable[];
/** `commerce.products` → `products`: the SCD2 table's folder, its Glue table, its DuckDB views' prefix. */
export const shortName = (table: string): string => table.slice(table.indexOf(".") + 1);

export interface CapturedRun {
  /** The change files (the sink's topics dir): the job's --source. */
  sourceDir: string;
  scd2Dir: string;
  admin: pg.Client;
  /** The instants PostgreSQL recorded, as `YYYY-MM-DD HH:MI:SS.US+00` (UTC), oldest first. */
  instants: string[];
  /** The last job run's per-table summary. */
  summaries: TableSummary[];
  /** Operations the workload ran, by name (delete-product, change-product-key, ...). */
  operations: Record<string, number>;
  /**
   * Runs `change` (it returns how many row changes it committed), records the truth, waits for the
   * capture and runs the job again (incrementally).
   */
  next(change: (admin: pg.Client) => Promise<number>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Records PostgreSQL's truth now (no transaction may be running): the instant, and every captured
 * table's rows at it, in one snapshot. Returns the instant as `YYYY-MM-DD HH:MI:SS.US+00`.
 */
async function recordTruth(admin: pg.Client): Promise<string> {
  await admin.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
  const at = await admin.query<{ at: string }>(
    `INSERT INTO truth.instants VALUES (clock_timestamp())
     RETURNING to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS at`,
  );
  for (const table of CAPTURED) {
    await admin.query(`INSERT INTO truth.${shortName(table)} SELECT $1::timestamptz, * FROM ${table}`, [
      at.rows[0]!.at,
    ]);
  }
  await admin.query("COMMIT");
  // Commit times are kept in milliseconds: the next commit must fall in a later millisecond.
  await new Promise((r) => setTimeout(r, 3));
  return at.rows[0]!.at;
}

export async function captureAndBuild(options: {
  phases: number;
  phaseMs: number;
  rate: number;
  seed: number;
}): Promise<CapturedRun> {
  const root = mkdtempSync(join(tmpdir(), "cdc-captured-"));
  chmodSync(root, 0o755);
  let server: EmbeddedPostgres | undefined;
  let admin: pg.Client | undefined;
  let workload: Workload | undefined;
  let runtime: ConnectorRuntime | undefined;
  const close = async () => {
    await runtime?.stop();
    await workload?.close();
    await admin?.end();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    server = await startEmbeddedPostgres({ dataDir: join(root, "pg") });
    const db = new pg.Client(server.connectionString);
    admin = db;
    await db.connect();
    process.env[PASSWORD_ENV] = "captured-run";
    // FULL: the workload changes primary keys, whose TOASTed values DEFAULT does not carry (docs/analytics.md, rule 6).
    await applySourceSetup(db, { rolePassword: "captured-run", replicaIdentity: "full" });
    await db.query("CREATE SCHEMA truth; CREATE TABLE truth.instants (at timestamptz PRIMARY KEY)");
    for (const table of CAPTURED) {
      await db.query(
        `CREATE TABLE truth.${shortName(table)} AS SELECT now() AS at, * FROM ${table} WITH NO DATA`,
      );
    }
    const load = await Workload.open(server.connectionString, { seed: options.seed });
    workload = load;
    await load.seed(30, 20);

    const { source, sink } = localConnectorConfigs(server.connectionString);
    const capture = await startConnectorRuntime({ source, sink, bucketRoot: join(root, "bucket") });
    runtime = capture;
    const topicsDirPath = join(root, "bucket", LOCAL_BUCKET, sink.config["topics.dir"]!);
    const scd2Dir = join(root, "scd2");
    const run: CapturedRun = {
      sourceDir: topicsDirPath,
      scd2Dir,
      admin: db,
      instants: [],
      summaries: [],
      operations: {},
      next: async (change) => {
        extra += await change(db);
        run.instants.push(await recordTruth(db));
        await build();
      },
      close,
    };
    let extra = 0;
    const build = async () => {
      const stats = load.stats();
      run.operations = stats.operations;
      await waitForRecords({
        flush: () => capture.flush(),
        topicsDirPath,
        topics: CAPTURED.map((t) => topicForTable(PIPELINE_DEFAULTS.topicPrefix, t)),
        expected: CAPTURED.reduce(
          (sum, t) => sum + stats.changes[t].inserts + stats.changes[t].updates + stats.changes[t].deletes,
          extra,
        ),
        timeoutMs: 60_000,
      });
      run.summaries = await runScd2Job({
        source: topicsDirPath,
        output: scd2Dir,
        topicPrefix: PIPELINE_DEFAULTS.topicPrefix,
        tables: CAPTURED,
      });
    };
    for (let phase = 0; phase < options.phases; phase++) {
      await load.run({ durationMs: options.phaseMs, rate: options.rate });
      run.instants.push(await recordTruth(db));
    }
    await build();
    return run;
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
