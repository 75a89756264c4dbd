/**
 * SCD2 rows side by side: the job's output read back with DuckDB, and the rows the ground truth says it
 * must hold, both with every column the job documents (source columns in canonical form, validity,
 * flags, lineage).
 */
import * as path from "node:path";
import type { ColumnDefinition } from "../../../connectors/database";
import type { TopicRecord } from "../../../engines/kafka-records";
import { query } from "../helpers/fixtures";
import type { Row } from "./canonical";
import { duckCanonical } from "./canonical";
import type { Version } from "./history";
import type { SinkLayout } from "./layout";
import { startOffset } from "./layout";

/** The columns the job adds after the source columns (docs/analytics.md, Output). */
export const JOB_COLUMNS = [
  "effective_from",
  "effective_to",
  "is_current",
  "is_deleted",
  "is_deleted_inferred",
  "__op",
  "__lsn",
  "__txId",
  "__source_file",
  "__kafka_partition",
  "__kafka_offset",
];

export type OutputRow = Record<string, string | boolean | null>;

const LINEAGE = `CAST(epoch_ms(effective_from) AS VARCHAR) AS effective_from,
  CAST(epoch_ms(effective_to) AS VARCHAR) AS effective_to, is_current, is_deleted, is_deleted_inferred, __op,
  CAST(__lsn AS VARCHAR) AS __lsn, CAST(__txId AS VARCHAR) AS __txId, __source_file,
  CAST(__kafka_partition AS VARCHAR) AS __kafka_partition, CAST(__kafka_offset AS VARCHAR) AS __kafka_offset`;

/** Every row of the output table `dir` (all its Parquet files), ordered by key, then validity. */
export async function outputRows(
  output: string,
  dir: string,
  columns: readonly ColumnDefinition[],
): Promise<OutputRow[]> {
  const glob = path.join(output, dir, "**", "*.parquet").replaceAll("'", "''");
  return (await query(
    `SELECT ${columns.map(duckCanonical).join(", ")}, ${LINEAGE} FROM read_parquet('${glob}') t
     ORDER BY t.id, t.effective_from, t.__lsn`,
  )) as OutputRow[];
}

/** The output's column names, in file order. */
export async function outputColumns(output: string, dir: string): Promise<string[]> {
  const glob = path.join(output, dir, "**", "*.parquet").replaceAll("'", "''");
  const rows = await query(`DESCRIBE SELECT * FROM read_parquet('${glob}')`);
  return rows.map((r) => String(r.column_name));
}

interface Unwrapped {
  id: number;
  __op: string;
  __lsn: number;
}

/** The record that made a version: its key and change, at the lowest Kafka position (re-deliveries come later). */
function origin(records: readonly TopicRecord[], version: Version): TopicRecord {
  const found = records.find((r) => {
    const value = (r.value as { payload: Unwrapped }).payload;
    return (
      String(value.id) === version.id &&
      String(value.__lsn) === version.lsn &&
      (value.__op === "r") === (version.op === "r")
    );
  });
  if (!found) throw new Error(`no record for version ${JSON.stringify(version)}`);
  return found;
}

/** The rows a table must hold: the expected versions with their lineage in the change files of `layout`. */
export function expectedRows(
  versions: readonly Version[],
  topic: string,
  records: readonly TopicRecord[],
  layout: SinkLayout,
): OutputRow[] {
  return versions.map((version) => {
    const record = origin(records, version);
    const offset = layout.offsetOf(record);
    const file = layout
      .files(topic)
      .filter((key) => startOffset(key) <= offset)
      .at(-1);
    const values: Row = version.values;
    return {
      ...values,
      effective_from: String(version.fromMs),
      effective_to: version.toMs === null ? null : String(version.toMs),
      is_current: version.toMs === null,
      is_deleted: version.deleted,
      // Without a reconciliation window no delete is inferred.
      is_deleted_inferred: false,
      __op: version.op,
      __lsn: version.lsn,
      __txId: version.txId,
      __source_file: file ?? null,
      __kafka_partition: String(record.partition),
      __kafka_offset: String(offset),
    };
  });
}
