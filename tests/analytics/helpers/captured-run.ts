/**
 * A real capture and SCD2 build for tests that need the job's output of a real workload: embedded
 * PostgreSQL with the source setup, the workload in phases, the local connector runtime, then the
 * SCD2 job as a subprocess (tsx analytics/src/cli.ts, as `npm start` runs it). After each phase, with
 * no transaction running, PostgreSQL records its own truth: the instant (clock_timestamp()) and every
 * row of each captured table at that instant, in side tables `truth.<table>` that are not published.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { PIPELINE_DEFAULTS, topicForTable } from "../../../connectors/config";
import { applySourceSetup } from "../../../connectors/database";
import { startConnectorRuntime } from "../../../connectors/local";
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
  root: string;
  scd2Dir: string;
  admin: pg.Client;
  /** The instants PostgreSQL recorded, as `YYYY-MM-DD HH:MI:SS.US+00` (UTC). */
  instants: string[];
  summaries: TableSummary[];
  /** Operations the workload ran, by name (delete-product, change-product-key, ...). */
  operations: Record<string, number>;
  close(): Promise<void>;
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
  const close = async () => {
    await workload?.close();
    await admin?.end();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    server = await startEmbeddedPostgres({ dataDir: join(root, "pg") });
    admin = new pg.Client(server.connectionString);
    await admin.connect();
    process.env[PASSWORD_ENV] = "captured-run";
    // FULL: the workload changes primary keys, whose TOASTed values DEFAULT does not carry (docs/analytics.md, rule 6).
    await applySourceSetup(admin, { rolePassword: "captured-run", replicaIdentity: "full" });
    await admin.query("CREATE SCHEMA truth; CREATE TABLE truth.instants (at timestamptz PRIMARY KEY)");
    for (const table of CAPTURED) {
      await admin.query(
        `CREATE TABLE truth.${shortName(table)} AS SELECT now() AS at, * FROM ${table} WITH NO DATA`,
      );
    }
    workload = await Workload.open(server.connectionString, { seed: options.seed });
    await workload.seed(30, 20);

    const { source, sink } = localConnectorConfigs(server.connectionString);
    const bucketRoot = join(root, "bucket");
    const runtime = await startConnectorRuntime({ source, sink, bucketRoot });
    const instants: string[] = [];
    try {
      for (let phase = 0; phase < options.phases; phase++) {
        await workload.run({ durationMs: options.phaseMs, rate: options.rate });
        // No transaction runs now: one instant, and every table's rows at it, in one statement each.
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
        instants.push(at.rows[0]!.at);
        // Commit times are kept in milliseconds: the next commit must fall in a later millisecond.
        await new Promise((r) => setTimeout(r, 3));
      }
      const stats = workload.stats();
      const topics = CAPTURED.map((t) => topicForTable(PIPELINE_DEFAULTS.topicPrefix, t));
      const topicsDirPath = join(bucketRoot, LOCAL_BUCKET, sink.config["topics.dir"]!);
      await waitForRecords({
        flush: () => runtime.flush(),
        topicsDirPath,
        topics,
        expected: CAPTURED.reduce(
          (sum, t) => sum + stats.changes[t].inserts + stats.changes[t].updates + stats.changes[t].deletes,
          0,
        ),
        timeoutMs: 60_000,
      });
      await runtime.stop();
      const scd2Dir = join(root, "scd2");
      const summaries = await runScd2Job({
        source: topicsDirPath,
        output: scd2Dir,
        topicPrefix: PIPELINE_DEFAULTS.topicPrefix,
        tables: CAPTURED,
      });
      return { root, scd2Dir, admin, instants, summaries, operations: stats.operations, close };
    } finally {
      await runtime.stop().catch(() => undefined);
    }
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
