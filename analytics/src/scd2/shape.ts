import { SCD2_COLUMNS } from "../../../common/catalog";
import { ident } from "../sql";

/** A decoded source column of a table, with its DuckDB type. */
export interface Column {
  readonly name: string;
  readonly type: string;
}

/** What the SQL builders need to know about a table. */
export interface TableShape {
  readonly primaryKey: readonly string[];
  /** Every source column (key columns included), in output order. */
  readonly columns: readonly Column[];
}

/**
 * Metadata every event row carries through the pipeline. `__source_ts_ms` is the commit time (a read's:
 * when it was read). Where the change sits in its key's history (ORDER in pipeline.ts): `_p`, the last
 * commit the stream had passed (-1 for initial-snapshot reads), then `_r`: 0 for snapshot reads, 1 for
 * changes, 2 for a delete a reconciliation inferred (reconcile.ts). `_del` marks deletes.
 */
export const EVENT_META = [
  "__op",
  "__lsn",
  "__txId",
  "__source_ts_ms",
  "__source_file",
  "__kafka_partition",
  "__kafka_offset",
  "_r",
  "_p",
  "_del",
] as const;

/** The per-key state kept between runs: the position and kind of the last change applied. */
export const KEY_STATE = ["_p", "_r", "__lsn", "__txId", "__source_ts_ms", "_del"] as const;

/** `_r` of a delete that a reconciliation inferred from a key's absence (reconcile.ts). */
export const INFERRED = 2;

export const list = (names: readonly string[], prefix = ""): string =>
  names.map((n) => `${prefix}${ident(n)}`).join(", ");

export const keyList = (shape: TableShape, prefix = ""): string => list(shape.primaryKey, prefix);

/** The columns of a key state file: the key, then KEY_STATE. */
export const keyStateColumns = (shape: TableShape): string => `${keyList(shape)}, ${list(KEY_STATE)}`;

/** Which of `count` buckets of keys a row's key falls in (0 to count - 1): every change of a key alike. */
export const keyBucket = (shape: TableShape, count: number): string => `hash(${keyList(shape)}) % ${count}`;

export const valueColumns = (shape: TableShape): Column[] =>
  shape.columns.filter((c) => !shape.primaryKey.includes(c.name));

/** Joins two relations on the key columns (`a.k = b.k AND ...`). */
export const keyJoin = (shape: TableShape, a: string, b: string): string =>
  shape.primaryKey.map((k) => `${a}.${ident(k)} = ${b}.${ident(k)}`).join(" AND ");

/**
 * Every column of an SCD2 output row, in order: the source columns, then the SCD2 and lineage columns as
 * the Glue catalog declares them (one list for the job and the stack).
 */
export const outputColumns = (shape: TableShape): string[] => [
  ...shape.columns.map((c) => c.name),
  ...SCD2_COLUMNS.map((c) => c.name),
];
