import type { TableShape } from "./shape";
import { EVENT_META, INFERRED, keyList, list, valueColumns } from "./shape";

/**
 * The SCD2 rules as SQL over a relation of change events (one row per change, columns: the table's
 * source columns plus EVENT_META). For one key, changes are ordered by CHANGE_ORDER: `_p`, the last commit
 * the stream had passed (initial-snapshot reads -1, first), then reads before changes of the same `_p`,
 * then LSN. A stream change of transaction T(k) has `_p` = commit(T(k-1)), which grows with commit order;
 * an incremental-snapshot read sent after commit L has `_p` = L: after every change of a transaction that
 * committed by L, before every later one. (A change's own LSN could not place it: a transaction that began
 * before L and committed after it has LSNs below L.) Re-delivered copies (same position) are sorted so
 * that the copy at the lowest Kafka position comes last, and is the one kept.
 *
 * The window passes over all events run on narrow facts (facts.ts): at most two, then the values are
 * joined back and every non-delete change is a version lasting until the next change. Updates that
 * change nothing are rare: the keys that may have one ("complex") are rebuilt here by `dropUnchanged` +
 * `buildVersions`, on whole rows.
 */
export const CHANGE_ORDER = "_p, _r, __lsn NULLS FIRST";
export const ORDER = `${CHANGE_ORDER}, __kafka_partition DESC, __kafka_offset DESC`;

/** SQL expressions for a change's transaction id and commit time. */
export interface ChangeRef {
  r: string;
  txId: string;
  ts: string;
}

/** The columns of a relation alias as a ChangeRef. */
export const changeOf = (alias: string): ChangeRef => ({
  r: `${alias}._r`,
  txId: `${alias}.__txId`,
  ts: `${alias}.__source_ts_ms`,
});

/**
 * Two consecutive changes of a key belong to one transaction: same `__txId`, or, where the files carry
 * no transaction id, the same commit time. Snapshot reads and inferred deletes are in none (an
 * incremental read has no `__txId`, and its time is when it was read).
 */
export function sameTransaction(a: ChangeRef, b: ChangeRef): string {
  return `(${a.r} = 1 AND ${b.r} = 1 AND CASE WHEN ${a.txId} IS NULL AND ${b.txId} IS NULL THEN ${a.ts} = ${b.ts} ELSE ${a.txId} IS NOT DISTINCT FROM ${b.txId} END)`;
}

/** The window over a key's changes in `order`. */
export const over = (shape: TableShape, order = ORDER): string =>
  `OVER (PARTITION BY ${keyList(shape)} ORDER BY ${order})`;

/** The non-key values of a change as one comparable value. */
function packedValues(shape: TableShape): string {
  const values = valueColumns(shape).map((c) => c.name);
  return values.length > 0 ? `struct_pack(${list(values)})` : "true";
}

/**
 * The SCD2 row of a change, given its next change's commit time `n_ts`, delete flag `n_del` and kind
 * `n_r` (INFERRED: a reconciliation's delete).
 */
function versionColumns(shape: TableShape): string {
  return `${list(shape.columns.map((c) => c.name))},
    make_timestamptz(__source_ts_ms * 1000) AS effective_from,
    make_timestamptz(n_ts * 1000) AS effective_to,
    n_ts IS NULL AS is_current,
    coalesce(n_del, false) AS is_deleted,
    coalesce(n_r = ${INFERRED}, false) AS is_deleted_inferred,
    __op, __lsn, __txId, __source_file, __kafka_partition, __kafka_offset`;
}

/** Versions straight from fast-pass rows (of keys that are not complex). */
export function simpleVersions(shape: TableShape, fast: string): string {
  return `SELECT ${versionColumns(shape)} FROM ${fast} f WHERE NOT _del`;
}

/**
 * Complex keys, step 1: drop an update whose values equal the key's previous state (nothing visible changed).
 * Deletes always stay, and so does the first change after a delete.
 */
export function dropUnchanged(shape: TableShape, input: string): string {
  const packed = packedValues(shape);
  const w = over(shape, CHANGE_ORDER);
  return `SELECT ${list(shape.columns.map((c) => c.name))}, ${list(EVENT_META)}
  FROM (SELECT *, lag(${packed}) ${w} AS p_vals, lag(_del) ${w} AS p_del FROM ${input})
  WHERE _del OR p_del IS NULL OR p_del OR ${packed} IS DISTINCT FROM p_vals`;
}

/**
 * Complex keys, step 2: every remaining non-delete change opens a version that lasts until the key's next
 * change (half-open); the version a delete ends is marked `is_deleted`.
 */
export function buildVersions(shape: TableShape, input: string): string {
  const w = over(shape, CHANGE_ORDER);
  return `SELECT ${versionColumns(shape)}
  FROM (SELECT *, lead(__source_ts_ms) ${w} AS n_ts, lead(_del) ${w} AS n_del, lead(_r) ${w} AS n_r FROM ${input})
  WHERE NOT _del`;
}
