import { placeholderTest } from "../decode/columns";
import { ident } from "../sql";
import { CHANGE_ORDER, changeOf, over, sameTransaction } from "./pipeline";
import type { TableShape } from "./shape";
import { EVENT_META, keyList, list, valueColumns } from "./shape";

/**
 * The window passes sort narrow "facts" instead of whole rows (a row can hold kilobytes of TOASTed text):
 * `_row` (the event's row id in the input, to join its values back afterwards), the key, the ordering and
 * transaction columns, and `_h`, a hash of the non-key values. Equal values give equal hashes, so a
 * different hash proves a change; an equal hash is only a hint, checked exactly on the complex path.
 */
const FACTS = [
  "_row",
  "_p",
  "_r",
  "__lsn",
  "__kafka_partition",
  "__kafka_offset",
  "__txId",
  "__source_ts_ms",
  "_del",
];

/** The facts a version keeps: its row, and the key state (KEY_STATE) should it be the key's last change. */
const KEPT = ["_row", "_p", "_r", "__lsn", "__txId", "__source_ts_ms", "_del"];

/** A column whose placeholder is carried forward. */
export interface Carried {
  readonly name: string;
  readonly type: string;
  /** True where the column holds Debezium's unavailable-value placeholder. */
  readonly isPlaceholder: (alias: string) => string;
}

/** The columns among `names` that can hold the placeholder. */
export function carriedColumns(shape: TableShape, names: ReadonlySet<string>): Carried[] {
  return shape.columns.flatMap((c) => {
    if (!names.has(c.name) || placeholderTest(c.name, c.type) === undefined) return [];
    const isPlaceholder = (alias: string) => placeholderTest(c.name, c.type, alias)!;
    return [{ name: c.name, type: c.type, isPlaceholder }];
  });
}

const nullHash = (c: Carried) => `hash(CAST(NULL AS ${c.type}))`;

/**
 * One row of facts per event of `input` (which has a unique `_row`). For a carried column, `_v<i>` says
 * where a real value is: `{row, h}` on the row itself, NULL where the placeholder stands. A delete has no
 * values (its non-key columns are defaults): it records a NULL value, so after a delete a placeholder
 * resolves to NULL.
 */
export function eventFacts(shape: TableShape, input: string, carried: readonly Carried[]): string {
  const plain = valueColumns(shape).filter((c) => !carried.some((k) => k.name === c.name));
  const hash = plain.length > 0 ? `hash(${list(plain.map((c) => c.name))})` : "CAST(0 AS UBIGINT)";
  const refs = carried.map(
    (c, i) =>
      `CASE WHEN _del THEN {'row': CAST(NULL AS BIGINT), 'h': ${nullHash(c)}} WHEN NOT ${c.isPlaceholder("i")} THEN {'row': _row, 'h': hash(i.${ident(c.name)})} END AS _v${i}`,
  );
  return `SELECT ${keyList(shape)}, ${list(FACTS)}, ${[`${hash} AS _h`, ...refs].join(", ")} FROM ${input} i`;
}

/**
 * The first window pass (only needed when some key has a re-delivery, several changes in one
 * transaction, or a placeholder): resolve each placeholder to the row holding the key's previous real
 * value (`_c<i>`, NULL if there is none) and fold its hash into `_h`; then drop re-delivered copies (the
 * copy at the lowest Kafka position sorts last and stays) and all but the last change of a key in each
 * transaction.
 */
export function collapseFacts(shape: TableShape, facts: string, carried: readonly Carried[]): string {
  // The previous real value: lag skipping NULLs (cheaper than last_value over a frame, same result).
  const resolved = carried.map(
    (_, i) =>
      `CASE WHEN _v${i} IS NULL THEN lag(_v${i} IGNORE NULLS) ${over(shape)} ELSE _v${i} END AS _rv${i}`,
  );
  const hashes = carried.map((c, i) => `coalesce(_rv${i}.h, ${nullHash(c)})`);
  const sources = carried.map((_, i) => `, CASE WHEN _v${i} IS NULL THEN _rv${i}.row END AS _c${i}`);
  // One struct-valued lead is markedly cheaper than four scalar ones.
  const next = `lead({'p': _p, 'r': _r, 'lsn': __lsn, 'txId': __txId, 'ts': __source_ts_ms}) ${over(shape)} AS _next`;
  // A re-delivery has the same position (an incremental read has no LSN: its `_p` says it all).
  const supersedes = `_next IS NOT NULL AND ((_next.p = _p AND _next.r = _r AND _next.lsn IS NOT DISTINCT FROM __lsn) OR ${sameTransaction(changeOf("e"), { r: "_next.r", txId: "_next.txId", ts: "_next.ts" })})`;
  return `SELECT ${keyList(shape)}, ${list(FACTS)}, hash(${["_h", ...hashes].join(", ")}) AS _h${sources.join("")}
  FROM (SELECT *, ${[next, ...resolved].join(", ")} FROM ${facts}) e
  WHERE NOT (${supersedes})`;
}

/**
 * The second window pass, over one change per transaction: each change with its next change (`n_ts`,
 * `n_del`), `_last` for the key's last change (where the next run continues), and `_complex` for an
 * update whose values may equal the previous change's (its key goes through the exact pipeline). Only
 * what later steps read is kept (the join back to the values holds it in memory).
 */
export function versionFacts(shape: TableShape, facts: string, carried: readonly Carried[]): string {
  const w = over(shape, CHANGE_ORDER);
  const kept = [...KEPT, ...carried.map((_, i) => `_c${i}`)];
  return `SELECT ${keyList(shape)}, ${list(kept)}, _next.ts AS n_ts, _next.del AS n_del, _next.r AS n_r, _next IS NULL AS _last,
    (NOT _del AND coalesce(NOT _prev.del, false) AND _h = _prev.h) AS _complex
  FROM (SELECT *, lead({'ts': __source_ts_ms, 'del': _del, 'r': _r}) ${w} AS _next, lag({'h': _h, 'del': _del}) ${w} AS _prev
    FROM ${facts})`;
}

/**
 * The values a carried column's placeholders resolve to: only the rows `_c<i>` of `facts` points to (a
 * table, so that the join in widenFacts builds its hash table on it and not on the wide rows).
 */
export function pointedValues(
  shape: TableShape,
  facts: string,
  input: string,
  carried: readonly Carried[],
  i: number,
): string {
  return `SELECT _row, ${keyList(shape)}, ${ident(carried[i]!.name)} FROM ${input} WHERE _row IN (SELECT _c${i} FROM ${facts} WHERE _c${i} IS NOT NULL)`;
}

/**
 * The fast-pass rows: the values of each surviving change joined back to its facts, a carried column's
 * placeholder replaced by the value on the row `_c<i>` points to (`pointed[i]`, see pointedValues).
 */
export function widenFacts(
  shape: TableShape,
  facts: string,
  input: string,
  carried: readonly Carried[],
  pointed: readonly string[],
): string {
  const values = shape.columns.map((c) => {
    const i = carried.findIndex((k) => k.name === c.name);
    const own = `e.${ident(c.name)}`;
    if (i < 0) return own;
    return `CASE WHEN ${carried[i]!.isPlaceholder("e")} THEN c${i}.${ident(c.name)} ELSE ${own} END AS ${ident(c.name)}`;
  });
  const joins = pointed.map((table, i) => ` LEFT JOIN ${table} c${i} ON c${i}._row = f._c${i}`).join("");
  return `SELECT ${values.join(", ")}, ${list(EVENT_META, "e.")}, f.n_ts, f.n_del, f.n_r, f._last, f._complex
  FROM ${input} e JOIN ${facts} f ON e._row = f._row${joins}`;
}

/** How many (key, transaction) groups have more than one change: re-deliveries or multi-change transactions. */
export function collapsibleGroups(shape: TableShape, input: string): string {
  return `SELECT count(*) FROM (SELECT 1 FROM ${input}
    GROUP BY ${keyList(shape)}, __txId, CASE WHEN __txId IS NULL THEN __source_ts_ms END HAVING count(*) > 1)`;
}

/** Bytes a value of a fixed-size column is taken to hold. */
const FIXED_VALUE_BYTES = 16;

/** The columns that can carry the placeholder: the ones of variable size (text, bytes, their arrays). */
const variableColumns = (shape: TableShape) =>
  shape.columns.filter((c) => placeholderTest(c.name, c.type) !== undefined);

/**
 * One row: `p<i>`, whether a change in `input` carries the placeholder in the i-th column that can
 * (variableColumns). Each test stops at the first change that has it, and reads only its column.
 */
export function placeholderColumns(shape: TableShape, input: string): string | undefined {
  const variable = variableColumns(shape);
  if (variable.length === 0) return undefined;
  const tests = variable.map(
    (c, i) => `EXISTS (SELECT 1 FROM ${input} WHERE ${placeholderTest(c.name, c.type)!}) AS p${i}`,
  );
  return `SELECT ${tests.join(", ")}`;
}

/**
 * One row: `bytes`, the average bytes of the values in a change of `input` of the columns that can carry
 * the placeholder, or undefined when the table has none.
 */
export function variableBytes(shape: TableShape, input: string): string | undefined {
  const variable = variableColumns(shape);
  if (variable.length === 0) return undefined;
  const size = variable.map((c) => `coalesce(strlen(CAST(${ident(c.name)} AS VARCHAR)), 0)`).join(" + ");
  return `SELECT coalesce(avg(${size}), 0)::DOUBLE AS bytes FROM ${input}`;
}

/** The names of the columns placeholderColumns' row says carry the placeholder. */
export const placeholderNames = (shape: TableShape, found: Record<string, unknown>): Set<string> =>
  new Set(variableColumns(shape).flatMap((c, i) => (found[`p${i}`] === true ? [c.name] : [])));

/** Average bytes of a change's values: `variableBytes` (its query's `bytes`) and the fixed-size columns. */
export function rowBytes(shape: TableShape, variableBytes: number): number {
  return variableBytes + (shape.columns.length - variableColumns(shape).length) * FIXED_VALUE_BYTES;
}
