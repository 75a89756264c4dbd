/**
 * End to end on a real PostgreSQL: source setup, workload, capture with the local connector runtime,
 * the SCD2 job (as a subprocess), then the SCD2 tables are compared with what PostgreSQL itself
 * showed at chosen moments: at each moment t, the SCD2 rows with effective_from <= t < effective_to
 * (or no effective_to) must equal the table's rows, column by column.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PIPELINE_DEFAULTS, topicForTable } from "../../connectors/config";
import {
  applySourceSetup,
  PRODUCTS_COLUMNS,
  USERS_COLUMNS,
  type ColumnDefinition,
} from "../../connectors/database";
import { startConnectorRuntime } from "../../connectors/local";
import { bucketContents, duckQuery, waitForRecords } from "../../local/bucket";
import { LOCAL_BUCKET, localConnectorConfigs, PASSWORD_ENV } from "../../local/pipeline";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../local/postgres";
import { runScd2Job } from "../../local/scd2";
import { scd2Relation } from "../../local/summary";
import { Workload, type CapturedTable } from "../../local/workload";
import { differences, duckText, pgText, type Row } from "./compare";

const TABLES: [CapturedTable, readonly ColumnDefinition[]][] = [
  ["commerce.products", PRODUCTS_COLUMNS],
  ["commerce.users", USERS_COLUMNS],
];
const PHASES = 4;

interface Checkpoint {
  /** PostgreSQL's clock_timestamp() after the phase's last commit, in microseconds since the epoch. */
  atMicros: bigint;
  tables: Record<CapturedTable, Row[]>;
}

/**
 * REPLICA IDENTITY FULL: every operation, primary-key changes included. DEFAULT: the TOAST placeholder
 * path (unchanged TOASTed values are carried forward by the SCD2 job), without primary-key changes:
 * under DEFAULT the create event of the new key carries the placeholder for an unchanged TOASTed
 * column and the old key's before-image holds only the key, so the value is not in the stream at all
 * (Debezium behaves the same).
 */
const VARIANTS = [
  { replicaIdentity: "full", exclude: [] },
  { replicaIdentity: "default", exclude: ["change-product-key"] },
] as const;

describe.each(VARIANTS)(
  "with REPLICA IDENTITY $replicaIdentity the pipeline reproduces PostgreSQL's states in SCD2",
  ({ replicaIdentity, exclude }) => {
    const root = mkdtempSync(join(tmpdir(), "cdc-e2e-"));
    chmodSync(root, 0o755);
    let server: EmbeddedPostgres;
    let admin: pg.Client;
    let workload: Workload;
    const checkpoints: Checkpoint[] = [];
    const scd2Dir = join(root, "scd2");

    beforeAll(async () => {
      server = await startEmbeddedPostgres({ dataDir: join(root, "pg") });
      admin = new pg.Client(server.connectionString);
      await admin.connect();
      process.env[PASSWORD_ENV] = "e2e-secret";
      await applySourceSetup(admin, { rolePassword: "e2e-secret", replicaIdentity });
      workload = await Workload.open(server.connectionString, { seed: 20_261_125, exclude });
      await workload.seed(30, 20);

      const { source, sink } = localConnectorConfigs(server.connectionString);
      const bucketRoot = join(root, "bucket");
      const runtime = await startConnectorRuntime({ source, sink, bucketRoot });
      try {
        for (let phase = 0; phase < PHASES; phase++) {
          await workload.run({ durationMs: 1500, rate: 60 });
          // No transaction is running now: this moment and these rows are one consistent state.
          const at = await admin.query<{ us: string }>(
            "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text AS us",
          );
          const tables = {} as Record<CapturedTable, Row[]>;
          for (const [table, columns] of TABLES) {
            tables[table] = (
              await admin.query<Row>(
                `SELECT ${columns.map(pgText).join(", ")} FROM ${table} ORDER BY ${table}.id`,
              )
            ).rows;
          }
          checkpoints.push({ atMicros: BigInt(at.rows[0]!.us), tables });
          // Commit times are kept in milliseconds: the next commit must fall in a later millisecond.
          await new Promise((r) => setTimeout(r, 3));
        }
        const stats = workload.stats();
        const topicsDirPath = join(bucketRoot, LOCAL_BUCKET, sink.config["topics.dir"]!);
        const topics = TABLES.map(([t]) => topicForTable(PIPELINE_DEFAULTS.topicPrefix, t));
        const expected = TABLES.reduce(
          (sum, [t]) => sum + stats.changes[t].inserts + stats.changes[t].updates + stats.changes[t].deletes,
          0,
        );
        await waitForRecords({
          flush: () => runtime.flush(),
          topicsDirPath,
          topics,
          expected,
          timeoutMs: 60_000,
        });
        const contents = await bucketContents(topicsDirPath, topics);
        // One record per committed row change (snapshot reads included), no more: nothing was restarted.
        expect(contents.map((c) => c.records)).toEqual(
          TABLES.map(([t]) => stats.changes[t].inserts + stats.changes[t].updates + stats.changes[t].deletes),
        );
        await runtime.stop();
        await runScd2Job({
          source: topicsDirPath,
          output: scd2Dir,
          topicPrefix: PIPELINE_DEFAULTS.topicPrefix,
          tables: TABLES.map(([t]) => t),
        });
      } finally {
        await runtime.stop().catch(() => undefined);
      }
    });

    afterAll(async () => {
      await workload?.close();
      await admin?.end();
      await server?.stop();
      rmSync(root, { recursive: true, force: true });
    });

    it("ran a workload that covers the contract's cases", () => {
      const { operations, changes } = workload.stats();
      for (const op of [
        "update-price-toast-untouched",
        "update-description",
        "delete-product",
        "reinsert-product",
        "multi-statement",
        "interleaved",
      ]) {
        expect(operations[op], op).toBeGreaterThan(0);
      }
      const keyChanges = operations["change-product-key"] ?? 0;
      if (exclude.length === 0) expect(keyChanges).toBeGreaterThan(0);
      else expect(keyChanges).toBe(0);
      expect(changes["commerce.users"].deletes).toBeGreaterThan(0);
      expect(checkpoints).toHaveLength(PHASES);
    });

    it.each(
      TABLES.flatMap(([table, columns]) =>
        [...Array(PHASES).keys()].map((phase) => [table, phase, columns] as const),
      ),
    )("%s at checkpoint %i equals PostgreSQL's rows column by column", async (table, phase, columns) => {
      const checkpoint = checkpoints[phase]!;
      const relation = scd2Relation(scd2Dir, table);
      const types = new Map(
        (await duckQuery(`DESCRIBE SELECT * FROM ${relation}`)).map((r) => [
          String(r.column_name),
          String(r.column_type),
        ]),
      );
      const select = columns.map((c) => duckText(c.name, types.get(c.name) ?? "VARCHAR")).join(", ");
      const t = checkpoint.atMicros.toString();
      const scd2 = await duckQuery(
        `SELECT ${select} FROM ${relation}
         WHERE epoch_us(effective_from) <= ${t} AND (effective_to IS NULL OR ${t} < epoch_us(effective_to))
         ORDER BY CAST(id AS BIGINT)`,
      );
      expect(scd2.length).toBeGreaterThan(0);
      expect(differences(checkpoint.tables[table], scd2 as Row[])).toEqual([]);
      expect(scd2).toEqual(checkpoint.tables[table]);
    });

    it("keeps the real TOASTed values in SCD2; the placeholder appears in the stream only under DEFAULT", async () => {
      for (const [table, column] of [
        ["commerce.products", "description"],
        ["commerce.users", "bio"],
      ] as const) {
        const topicDir = join(
          root,
          "bucket",
          LOCAL_BUCKET,
          PIPELINE_DEFAULTS.topicsDir,
          topicForTable("cdc", table),
        );
        const [stream] = await duckQuery(
          `SELECT count(*) FILTER (WHERE "${column}" = '__debezium_unavailable_value') AS placeholders
         FROM read_parquet('${topicDir}/**/*.parquet')`,
        );
        expect(Number(stream!.placeholders) > 0).toBe(replicaIdentity === "default");
        const [history] = await duckQuery(
          `SELECT count(*) FILTER (WHERE "${column}" LIKE '%__debezium_unavailable_value%') AS placeholders,
                count(*) FILTER (WHERE length("${column}") > 3000) AS toasted
         FROM ${scd2Relation(scd2Dir, table)}`,
        );
        expect(Number(history!.placeholders)).toBe(0);
        expect(Number(history!.toasted)).toBeGreaterThan(0);
      }
    });
  },
);
