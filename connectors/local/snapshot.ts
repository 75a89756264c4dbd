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
export const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export interface SnapshotResult {
  lsn: bigint;
  txId: number;
  records: number;
}

/**
 * The tables Debezium captures, in its snapshot order: grouped by the `table.include.list` entry
 * they first match, sorted by `schema.table` (Java string order) within each.
 */
export async function capturedTables(
  client: pg.Client,
  settings: SourceSettings,
): Promise<{ schema: string; table: string }[]> {
  const { rows } = await client.query<{ schema: string; table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
  );
  const named = rows
    .map((r) => ({ ...r, id: `${r.schema}.${r.table}` }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ordered = new Set<(typeof named)[number]>();
  for (const pattern of settings.tableInclude)
    for (const table of named) if (pattern.test(table.id)) ordered.add(table);
  return [...ordered].map(({ schema, table }) => ({ schema, table }));
}

/**
 * The `source.snapshot` marker of a row, as Debezium's RelationalSnapshotChangeEventSource sets it:
 * `last` (last row of the last table), `first` (first row of the first table),
 * `last_in_data_collection`, `first_in_data_collection`, else `true`.
 */
function snapshotMarker(
  firstTable: boolean,
  lastTable: boolean,
  firstInTable: boolean,
  lastInTable: boolean,
): string {
  if (lastInTable && lastTable) return "last";
  if (firstInTable && firstTable) return "first";
  if (lastInTable) return "last_in_data_collection";
  if (firstInTable) return "first_in_data_collection";
  return "true";
}

type Row = Record<string, string | null>;

/** One table's rows, turned into records one row behind the cursor: the last row is known only at the end. */
class SnapshotTableReader {
  private held: Row | undefined;
  private position = 0;

  constructor(
    private readonly toRecords: (row: Row, marker: string) => UnwrappedRecord[],
    private readonly firstTable: boolean,
    private readonly lastTable: boolean,
  ) {}

  add(rows: Row[]): UnwrappedRecord[] {
    const records: UnwrappedRecord[] = [];
    for (const row of rows) {
      if (this.held) records.push(...this.release(false));
      this.held = row;
    }
    return records;
  }

  end(): UnwrappedRecord[] {
    return this.held ? this.release(true) : [];
  }

  private release(last: boolean): UnwrappedRecord[] {
    const marker = snapshotMarker(this.firstTable, this.lastTable, this.position === 0, last);
    this.position += 1;
    const row = this.held!;
    this.held = undefined;
    return this.toRecords(row, marker);
  }
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
    for (const [index, { schema, table }] of tables.entries()) {
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
      const tableRows = new SnapshotTableReader(
        (row, marker) =>
          builder.read("r", row, Date.now(), marker === "true" ? source : { ...source, snapshot: marker }),
        index === 0,
        index === tables.length - 1,
      );
      const cursor = `cdc_snapshot_${index}`;
      await client.query(
        `DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT * FROM "${schema.replace(/"/g, '""')}"."${table.replace(/"/g, '""')}"`,
      );
      for (;;) {
        const batch = await client.query<Record<string, string | null>>({
          text: `FETCH ${settings.snapshotFetchSize} FROM ${cursor}`,
          types: RAW_TEXT,
        });
        if (batch.rows.length === 0) break;
        count += batch.rows.length;
        emit(tableRows.add(batch.rows));
      }
      emit(tableRows.end());
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
export const DEBEZIUM_VERSION = "3.6.1.Final";
