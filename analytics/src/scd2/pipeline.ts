import { placeholderTest } from "../decode/columns";
import { ident } from "../sql";
import type { TableShape } from "./shape";
import { EVENT_META, keyList, list, valueColumns } from "./shape";

/** Event order within a key: snapshot reads first, then LSN; duplicates sorted so the lowest Kafka position is last. */
const ORDER = "_r, __lsn, __kafka_partition DESC, __kafka_offset DESC";

/**
 * Two consecutive changes of a key belong to one transaction: same `__txId`, or, where the files carry
 * no transaction id, the same commit time.
 */
export function sameTransaction(a: ChangeRef, b: ChangeRef): string {
  return `(CASE WHEN ${a.txId} IS NULL AND ${b.txId} IS NULL THEN ${a.ts} = ${b.ts} ELSE ${a.txId} IS NOT DISTINCT FROM ${b.txId} END)`;
}

/** SQL expressions for a change's transaction id and commit time. */
export interface ChangeRef {
  txId: string;
  ts: string;
}

/** The columns of a relation alias as a ChangeRef. */
export const changeOf = (alias: string): ChangeRef => ({
  txId: `${alias}.__txId`,
  ts: `${alias}.__source_ts_ms`,
});

/**
 * The value of `column` with Debezium's unavailable-value placeholder replaced by the key's previous
 * value: the last earlier change that carried a real value. A delete has no values (its non-key columns
 * are defaults), so after a delete there is no previous value and the result is NULL.
 */
function carryForward(shape: TableShape, column: string, type: string, isPlaceholder: string): string {
  const c = ident(column);
  const window = `PARTITION BY ${keyList(shape)} ORDER BY ${ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING`;
  const source = `CASE WHEN _del THEN {'v': CAST(NULL AS ${type})} WHEN NOT ${isPlaceholder} THEN {'v': ${c}} END`;
  return `CASE WHEN ${isPlaceholder} THEN (last_value(${source} IGNORE NULLS) OVER (${window})).v ELSE ${c} END`;
}

/**
 * Step 1 over all events of the affected keys (`input`): drop re-delivered duplicates (same key, op
 * class and LSN: keep the copy at the lowest Kafka position), keep only the last change of a key in
 * each transaction, carry values forward over placeholders (for `placeholderColumns`). `_last` marks
 * each key's last change: the position the next run continues from.
 */
export function collapseEvents(
  shape: TableShape,
  input: string,
  placeholderColumns: ReadonlySet<string>,
): string {
  const w = `OVER (PARTITION BY ${keyList(shape)} ORDER BY ${ORDER})`;
  const values = shape.columns.map((c) => {
    const test = placeholderColumns.has(c.name) ? placeholderTest(c.name, c.type) : undefined;
    return test ? `${carryForward(shape, c.name, c.type, test)} AS ${ident(c.name)}` : ident(c.name);
  });
  const nextIs = `lead(_r) ${w} AS n_r, lead(__lsn) ${w} AS n_lsn, lead(__txId) ${w} AS n_txId, lead(__source_ts_ms) ${w} AS n_ts`;
  const sameTxAsNext = sameTransaction(changeOf("e"), { txId: "n_txId", ts: "n_ts" });
  return `SELECT ${list(shape.columns.map((c) => c.name))}, ${list(EVENT_META)}, n_lsn IS NULL AS _last
  FROM (SELECT ${values.join(", ")}, ${list(EVENT_META)}, ${nextIs} FROM ${input}) e
  WHERE n_lsn IS NULL OR NOT ((n_r = _r AND n_lsn = __lsn) OR ${sameTxAsNext})`;
}

/**
 * Step 2 over collapsed events: drop an update whose values equal the key's previous state (nothing
 * visible changed). Deletes always stay; the first change after a delete always stays.
 */
export function dropUnchanged(shape: TableShape, input: string): string {
  const values = valueColumns(shape).map((c) => c.name);
  const packed = values.length > 0 ? `struct_pack(${list(values)})` : "true";
  const w = `OVER (PARTITION BY ${keyList(shape)} ORDER BY _r, __lsn)`;
  return `SELECT ${list(shape.columns.map((c) => c.name))}, ${list(EVENT_META)}
  FROM (SELECT *, ${packed} AS _vals, lag(${packed}) ${w} AS p_vals, lag(_del) ${w} AS p_del FROM ${input})
  WHERE _del OR p_del IS NULL OR p_del OR _vals IS DISTINCT FROM p_vals`;
}

/**
 * Step 3 over the changes that remain: every non-delete change opens a version that lasts until the
 * key's next change (half-open); the version a delete ends is marked `is_deleted`.
 */
export function buildVersions(shape: TableShape, input: string): string {
  const w = `OVER (PARTITION BY ${keyList(shape)} ORDER BY _r, __lsn)`;
  return `SELECT ${list(shape.columns.map((c) => c.name))},
    CAST(epoch_ms(__source_ts_ms) AS TIMESTAMPTZ) AS effective_from,
    CAST(epoch_ms(n_ts) AS TIMESTAMPTZ) AS effective_to,
    n_ts IS NULL AS is_current,
    coalesce(n_del, false) AS is_deleted,
    __op, __lsn, __txId, __source_file, __kafka_partition, __kafka_offset
  FROM (SELECT *, lead(__source_ts_ms) ${w} AS n_ts, lead(_del) ${w} AS n_del FROM ${input})
  WHERE NOT _del`;
}
