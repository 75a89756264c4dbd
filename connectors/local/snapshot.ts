/**
 * Debezium's initial snapshot: the captured tables' rows as `r` records, read in one
 * REPEATABLE READ transaction, all carrying that transaction's LSN, txId and start time.
 */
import type pg from "pg";
import { readTableInfo } from "./catalog";
import { parseLsn } from "./lsn";
import type { SourceSettings } from "./source-config";
import type { TableRecordBuilder, SourceInfo, UnwrappedRecord } from "./unwrap";

/** The rows come back as PostgreSQL text, like pgoutput's text tuples. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export interface SnapshotResult {
  lsn: bigint;
  txId: number;
  records: number;
}

/** The tables Debezium captures: user tables whose `schema.table` matches table.include.list. */
export async function capturedTables(
  client: pg.Client,
  settings: SourceSettings,
): Promise<{ schema: string; table: string }[]> {
  const { rows } = await client.query<{ schema: string; table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
     ORDER BY 1, 2`,
  );
  return rows.filter((r) => settings.tableInclude.some((re) => re.test(`${r.schema}.${r.table}`)));
}

export async function runSnapshot(
  client: pg.Client,
  settings: SourceSettings,
  makeBuilder: (info: Awaited<ReturnType<typeof readTableInfo>>) => TableRecordBuilder,
  emit: (records: UnwrappedRecord[]) => void,
): Promise<SnapshotResult> {
  const tables = await capturedTables(client, settings);
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
  try {
    const head = await client.query<{ lsn: string; txid: string; now_us: string }>(
      "SELECT pg_current_wal_lsn()::text AS lsn, txid_current()::text AS txid, (extract(epoch from clock_timestamp()) * 1000000)::bigint::text AS now_us",
    );
    const lsn = parseLsn(head.rows[0]!.lsn);
    const txId = Number(head.rows[0]!.txid);
    const nowUs = Number(head.rows[0]!.now_us);
    let count = 0;
    for (const { schema, table } of tables) {
      const builder = makeBuilder(await readTableInfo(client, schema, table));
      const source: SourceInfo = {
        version: DEBEZIUM_VERSION,
        connector: "postgresql",
        name: settings.topicPrefix,
        ts_ms: Math.floor(nowUs / 1000),
        snapshot: "true",
        db: settings.database.dbname,
        sequence: JSON.stringify([null, lsn.toString()]),
        ts_us: nowUs,
        ts_ns: nowUs * 1000,
        schema,
        table,
        txId,
        lsn: Number(lsn),
        xmin: null,
      };
      const cursor = `cdc_snapshot_${count}`;
      await client.query(
        `DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT * FROM "${schema.replace(/"/g, '""')}"."${table.replace(/"/g, '""')}"`,
      );
      for (;;) {
        const batch = await client.query<Record<string, string | null>>({
          text: `FETCH ${settings.snapshotFetchSize} FROM ${cursor}`,
          types: RAW_TEXT,
        });
        if (batch.rows.length === 0) break;
        const records: UnwrappedRecord[] = [];
        for (const row of batch.rows) records.push(...builder.read("r", row, Date.now(), source));
        count += batch.rows.length;
        emit(records);
      }
      await client.query(`CLOSE ${cursor}`);
    }
    await client.query("COMMIT");
    return { lsn, txId, records: count };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

/** The Debezium release whose behaviour the runtime reproduces (the `source.version` field). */
export const DEBEZIUM_VERSION = "3.1.0.Final";
