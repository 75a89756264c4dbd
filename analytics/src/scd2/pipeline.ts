import { placeholderTest } from "../decode/columns";
import { ident } from "../sql";
import type { TableShape } from "./shape";
import { EVENT_META, keyList, list, valueColumns } from "./shape";

/**
 * The SCD2 rules as SQL over a relation of change events (one row per change, columns: the table's
 * source columns plus EVENT_META). For one key, changes are ordered snapshot reads first, then by LSN
 * (for one row, LSN order is commit order); re-delivered copies (same LSN) are sorted so that the copy
 * at the lowest Kafka position comes last, and is the one kept.
 *
 * Two window passes at most: `collapseEvents` (only when some key has a re-delivery, several changes in
 * one transaction, or a placeholder) leaves one change per transaction with real values; `fastPass` then
 * makes every non-delete change a version lasting until the next change. Updates that change nothing
 * are rare: the keys that have one ("complex") are rebuilt by `dropUnchanged` + `buildVersions`.
 */
const ORDER = "_r, __lsn, __kafka_partition DESC, __kafka_offset DESC";

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
 * Two consecutive changes of a key belong to one transaction: same `__txId`, or, where the files carry
 * no transaction id, the same commit time.
 */
export function sameTransaction(a: ChangeRef, b: ChangeRef): string {
  return `(CASE WHEN ${a.txId} IS NULL AND ${b.txId} IS NULL THEN ${a.ts} = ${b.ts} ELSE ${a.txId} IS NOT DISTINCT FROM ${b.txId} END)`;
}

const over = (shape: TableShape, order = ORDER) => `OVER (PARTITION BY ${keyList(shape)} ORDER BY ${order})`;

/** The next change of the key, and whether it supersedes this one (a re-delivery or the same transaction). */
function nextChange(shape: TableShape): { columns: string; supersedes: string } {
  const w = over(shape);
  return {
    // One struct-valued lead is markedly cheaper than four scalar ones over wide rows.
    columns: `lead({'r': _r, 'lsn': __lsn, 'txId': __txId, 'ts': __source_ts_ms}) ${w} AS _next`,
    supersedes: `(_next IS NOT NULL AND ((_next.r = _r AND _next.lsn = __lsn) OR ${sameTransaction(changeOf("e"), { txId: "_next.txId", ts: "_next.ts" })}))`,
  };
}

/** The non-key values of a change as one comparable value. */
function packedValues(shape: TableShape): string {
  const values = valueColumns(shape).map((c) => c.name);
  return values.length > 0 ? `struct_pack(${list(values)})` : "true";
}

/** The SCD2 row of a change, given its next change's commit time `n_ts` and delete flag `n_del`. */
function versionColumns(shape: TableShape): string {
  return `${list(shape.columns.map((c) => c.name))},
    make_timestamptz(__source_ts_ms * 1000) AS effective_from,
    make_timestamptz(n_ts * 1000) AS effective_to,
    n_ts IS NULL AS is_current,
    coalesce(n_del, false) AS is_deleted,
    __op, __lsn, __txId, __source_file, __kafka_partition, __kafka_offset`;
}

/**
 * One window pass over collapsed events: each row with its next change (`n_ts`, `n_del`), `_last` for
 * the key's last change (where the next run continues), and `_complex` for an update that changes
 * nothing (its key needs the exact pipeline).
 */
export function fastPass(shape: TableShape, input: string): string {
  const w = over(shape, "_r, __lsn");
  const packed = packedValues(shape);
  const unchanged = `(NOT _del AND coalesce(NOT _prev.del, false) AND ${packed} IS NOT DISTINCT FROM _prev.vals)`;
  return `SELECT ${list(shape.columns.map((c) => c.name))}, ${list(EVENT_META)},
    _next.ts AS n_ts, _next.del AS n_del, _next IS NULL AS _last, ${unchanged} AS _complex
  FROM (SELECT *, lead({'ts': __source_ts_ms, 'del': _del}) ${w} AS _next,
      lag({'vals': ${packed}, 'del': _del}) ${w} AS _prev FROM ${input})`;
}

/** How many (key, transaction) groups have more than one change: re-deliveries or multi-change transactions. */
export function collapsibleGroups(shape: TableShape, input: string): string {
  return `SELECT count(*) FROM (SELECT 1 FROM ${input}
    GROUP BY ${keyList(shape)}, __txId, CASE WHEN __txId IS NULL THEN __source_ts_ms END HAVING count(*) > 1)`;
}

/** One row: for each column that can carry the placeholder, whether any change in `input` does. */
export function placeholderColumns(shape: TableShape, input: string): string | undefined {
  const tests = shape.columns.flatMap((c) => {
    const test = placeholderTest(c.name, c.type);
    return test ? [`bool_or(${test}) AS ${ident(c.name)}`] : [];
  });
  return tests.length > 0 ? `SELECT ${tests.join(", ")} FROM ${input}` : undefined;
}

/** Versions of the keys that are not complex, straight from the fast pass. */
export function simpleVersions(shape: TableShape, fast: string, complexKeys: string | undefined): string {
  const notComplex = complexKeys
    ? ` AND NOT EXISTS (SELECT 1 FROM ${complexKeys} x WHERE ${shape.primaryKey.map((k) => `x.${ident(k)} = f.${ident(k)}`).join(" AND ")})`
    : "";
  return `SELECT ${versionColumns(shape)} FROM ${fast} f WHERE NOT _del${notComplex}`;
}

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
 * Carry values forward over placeholders (in the `carry` columns), drop re-delivered copies (keep the
 * lowest Kafka position), and keep only the last change of a key in each transaction.
 */
export function collapseEvents(shape: TableShape, input: string, carry: ReadonlySet<string>): string {
  const values = shape.columns.map((c) => {
    const test = carry.has(c.name) ? placeholderTest(c.name, c.type) : undefined;
    return test ? `${carryForward(shape, c.name, c.type, test)} AS ${ident(c.name)}` : ident(c.name);
  });
  const next = nextChange(shape);
  return `SELECT ${list(shape.columns.map((c) => c.name))}, ${list(EVENT_META)}
  FROM (SELECT ${values.join(", ")}, ${list(EVENT_META)}, ${next.columns} FROM ${input}) e
  WHERE NOT ${next.supersedes}`;
}

/**
 * Complex keys, step 1: drop an update whose values equal the key's previous state (nothing visible changed).
 * Deletes always stay, and so does the first change after a delete.
 */
export function dropUnchanged(shape: TableShape, input: string): string {
  const packed = packedValues(shape);
  const w = over(shape, "_r, __lsn");
  return `SELECT ${list(shape.columns.map((c) => c.name))}, ${list(EVENT_META)}
  FROM (SELECT *, lag(${packed}) ${w} AS p_vals, lag(_del) ${w} AS p_del FROM ${input})
  WHERE _del OR p_del IS NULL OR p_del OR ${packed} IS DISTINCT FROM p_vals`;
}

/**
 * Complex keys, step 2: every remaining non-delete change opens a version that lasts until the key's next
 * change (half-open); the version a delete ends is marked `is_deleted`.
 */
export function buildVersions(shape: TableShape, input: string): string {
  const w = over(shape, "_r, __lsn");
  return `SELECT ${versionColumns(shape)}
  FROM (SELECT *, lead(__source_ts_ms) ${w} AS n_ts, lead(_del) ${w} AS n_del FROM ${input})
  WHERE NOT _del`;
}
