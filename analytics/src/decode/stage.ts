import type { Duck } from "../duck";
import { Scd2Error, messageOf } from "../errors";
import { ident, literal } from "../sql";
import { decodeExpression } from "./columns";
import {
  RAW_LINE,
  REQUIRED_META,
  groupRows,
  jsonGroups,
  needsRawLines,
  parquetGroups,
  withKeys,
} from "./read-groups";
import type { ReadGroup, StageRequest } from "./read-groups";

export type { LocalSourceFile, StageRequest } from "./read-groups";

/** The staged view's unique row id: the file's index in the high bits, the row's number in it in the low. */
export const ROW_ID = "_row";
/** `_row` of a change read in place: the file's index times this, plus its row in the file. */
export const ROWS_PER_FILE = 2 ** 40;

/** The SELECT that reads one group and yields decoded columns plus the uniform metadata columns. */
function groupSelect(request: StageRequest, group: ReadGroup): string {
  const names = new Set(group.columns.map((c) => c.name));
  const first = group.files[0]!.local;
  for (const required of [...request.primaryKey, ...REQUIRED_META]) {
    if (!names.has(required)) {
      throw new Scd2Error(`${request.table}: ${first.file.key} has no column ${required}`);
    }
  }
  const optional = (name: string, type: string) =>
    names.has(name) ? `CAST(r.${name} AS ${type})` : `NULL::${type}`;
  const isDelete = `(coalesce(${optional("__deleted", "VARCHAR")} = 'true', false) OR coalesce(r.__op = 'd', false))`;
  const values = group.columns
    .filter((c) => !c.name.startsWith("__"))
    .map((c) => {
      try {
        const rawLine = needsRawLines(group) ? `r.${RAW_LINE}` : undefined;
        const decoded = decodeExpression(c.name, c.type, group.encodings.get(c.name), "f.key", rawLine);
        // A delete's non-key values are filler (REPLICA IDENTITY DEFAULT), not data: never decode them.
        const value = request.primaryKey.includes(c.name)
          ? decoded
          : `CASE WHEN ${isDelete} THEN NULL ELSE ${decoded} END`;
        return `${value} AS ${ident(c.name)}`;
      } catch (error) {
        throw new Scd2Error(`${request.table}: column ${c.name} in ${first.file.key} ${messageOf(error)}`);
      }
    });
  return `SELECT ${[...values].join(", ")},
    CAST(r.__op AS VARCHAR) AS __op, CAST(r.__lsn AS BIGINT) AS __lsn, ${optional("__txId", "BIGINT")} AS __txId,
    CAST(r.__source_ts_ms AS BIGINT) AS __source_ts_ms,
    f.key AS __source_file, f.part AS __kafka_partition, f.start + r.file_row_number AS __kafka_offset,
    CAST(CASE WHEN r.__op = 'r' THEN 0 ELSE 1 END AS UTINYINT) AS _r,
    ${placement(names.has("__sequence"))} AS _p,
    ${isDelete} AS _del, f.idx * ${ROWS_PER_FILE} + r.file_row_number AS ${ROW_ID}
  FROM ${groupRows(group)}`;
}

/** The first element of Debezium's `__sequence` (`["<last commit LSN>","<own LSN>"]`), NULL if null or malformed. */
const lastCommit = (sequence: string) =>
  `CASE WHEN ${sequence} LIKE '["%' THEN TRY_CAST(split_part(${sequence}, '"', 2) AS BIGINT) END`;

/**
 * `_p`, where a change sits in the stream (see ORDER in scd2/pipeline.ts): -1 for a read of the initial
 * snapshot (it has an LSN: the snapshot's position; it comes before all streaming), else the last commit
 * the stream had passed (`__sequence`'s first element; null, the first transaction after a snapshot, is 0).
 * Without `__sequence` every change is 0, and LSN order alone places them (incremental reads are refused).
 */
function placement(hasSequence: boolean): string {
  const passed = hasSequence ? `coalesce(${lastCommit("CAST(r.__sequence AS VARCHAR)")}, 0)` : "0";
  return `CAST(CASE WHEN r.__op = 'r' AND r.__lsn IS NOT NULL THEN -1 ELSE ${passed} END AS BIGINT)`;
}

/** The operations the job knows: create, update, delete, snapshot read. */
const KNOWN_OPS = ["c", "u", "d", "r"];

/**
 * A change the job does not understand (an `__op` other than c/u/d/r, an `__lsn` that is not a whole
 * number) would be written into the history as if it were one: name its file and Kafka offset instead.
 * Runs on the raw rows, before any cast could fail without naming the file. (A JSON file's mixed
 * numbers and strings read as DuckDB JSON, whose text keeps the quotes: they are trimmed for the message.)
 */
async function checkChanges(duck: Duck, request: StageRequest, group: ReadGroup): Promise<void> {
  const op = "CAST(r.__op AS VARCHAR)";
  const badOp = `coalesce(${op} NOT IN (${KNOWN_OPS.map(literal).join(", ")}), false)`;
  const lsn = "TRY_CAST(r.__lsn AS BIGINT)";
  const badLsn = `(r.__lsn IS NOT NULL AND (${lsn} IS NULL OR TRY_CAST(r.__lsn AS DOUBLE) <> ${lsn}))`;
  // A key value the table's key type cannot hold would make every later join on the key fail. (Only
  // keys read as delivered: an encoded key's stored type is its decoded one.)
  const keyTypes = request.primaryKey.flatMap((k) => {
    const type = request.tableColumns.get(k);
    const encoding = group.encodings.get(k);
    const asDelivered = encoding === undefined || encoding === "as-is";
    return type === undefined || !asDelivered ? [] : [{ column: ident(k), name: k, type }];
  });
  const badKey = keyTypes.map(
    ({ column, type }) => `(r.${column} IS NOT NULL AND TRY_CAST(r.${column} AS ${type}) IS NULL)`,
  );
  const badKeyName = keyTypes.length
    ? `CASE ${keyTypes.map((k, i) => `WHEN ${badKey[i]} THEN ${literal(k.name)}`).join(" ")} END`
    : "NULL";
  // An incremental-snapshot read has no LSN: only `__sequence` (the last commit passed) places it.
  const hasSequence = group.columns.some((c) => c.name === "__sequence");
  const sequence = hasSequence ? "CAST(r.__sequence AS VARCHAR)" : "NULL";
  const unplaced = `(${op} = 'r' AND r.__lsn IS NULL AND ${lastCommit(sequence)} IS NULL)`;
  const badSequence = `(${sequence} IS NOT NULL AND ${sequence} NOT LIKE '[null,%' AND ${lastCommit(sequence)} IS NULL)`;
  const [bad] = await duck.rows(
    `SELECT f.key, f.start + r.file_row_number AS offset, ${op} AS op, trim(CAST(r.__lsn AS VARCHAR), '"') AS lsn, ${badOp} AS bad_op, ${badKeyName} AS bad_key,
       ${sequence} AS sequence, ${badSequence} AS bad_sequence, ${unplaced} AS unplaced
     FROM ${groupRows(group)} WHERE ${[badOp, badLsn, badSequence, unplaced, ...badKey].join(" OR ")} ORDER BY f.idx, r.file_row_number LIMIT 1`,
  );
  if (!bad) return;
  const where = `${request.table}: ${String(bad.key)} has a row (offset ${String(bad.offset)})`;
  if (bad.bad_op === true)
    throw new Scd2Error(
      `${where} with unknown __op ${JSON.stringify(bad.op)} (expected one of ${KNOWN_OPS.join(", ")})`,
    );
  if (bad.bad_sequence === true)
    throw new Scd2Error(
      `${where} whose __sequence ${JSON.stringify(bad.sequence)} is not Debezium's ["<last commit LSN>","<LSN>"]`,
    );
  if (bad.unplaced === true)
    throw new Scd2Error(
      `${where} that is an incremental-snapshot read (__op "r", no __lsn) ${hasSequence ? "whose __sequence names no commit" : "and the file has no __sequence"}: the job cannot place it in its key's history (the unwrap's add.fields must include sequence)`,
    );
  const key = keyTypes.find((k) => k.name === bad.bad_key);
  if (key)
    throw new Scd2Error(
      `${where} whose key ${key.name} is not a ${key.type}, the key's type in the table's history`,
    );
  throw new Scd2Error(`${where} whose __lsn ${JSON.stringify(bad.lsn)} is not a whole number`);
}

/**
 * Reads the given change files into temp tables (or, `inPlace`, views over the Parquet files) and
 * creates view `target` over them: every source column decoded, the union of all files' columns by
 * name (a column a file lacks is NULL), plus `__op, __lsn, __txId, __source_ts_ms, __source_file,
 * __kafka_partition, __kafka_offset, _r, _p, _del`, and a unique `_row`.
 * Throws Scd2Error naming the file for unreadable files or schemas, missing columns and NULL keys.
 */
export async function stageEvents(duck: Duck, request: StageRequest): Promise<void> {
  const empty = request.files.find((f) => f.file.size === 0);
  if (empty) {
    throw new Scd2Error(
      `${request.table}: ${empty.file.key} is empty (0 bytes): the sink never writes an empty change file, so it was cut short or is not one`,
    );
  }
  const indexed = request.files.map((local, index) => ({ local, index }));
  const parquet = indexed.filter((f) => f.local.file.format === "parquet");
  const groups = parquet.length > 0 ? await parquetGroups(duck, request, parquet) : [];
  const jsonFiles = indexed.filter((f) => f.local.file.format === "json");
  if (jsonFiles.length > 0) groups.push(...(await jsonGroups(duck, request, jsonFiles)));
  const relations: string[] = [];
  let done = 0;
  for (const group of groups) {
    const name = `${request.target}_${relations.length}`;
    const select = groupSelect(request, group);
    const json = group.files[0]?.local.file.format === "json";
    try {
      // A JSON file's row order is its Kafka order: keep it for row_number().
      if (json) await duck.run("SET preserve_insertion_order = true");
      await checkChanges(duck, request, group);
      const kind = request.inPlace && !json ? "VIEW" : "TABLE";
      await duck.run(`CREATE OR REPLACE TEMP ${kind} ${name} AS ${select}`);
    } catch (error) {
      if (error instanceof Scd2Error) throw error;
      throw new Scd2Error(
        `${request.table}: cannot read change files: ${withKeys(
          messageOf(error),
          group.files.map((f) => f.local),
        )}`,
        { cause: error },
      );
    } finally {
      await duck.run("SET preserve_insertion_order = false");
    }
    relations.push(name);
    done += group.files.length;
    request.onFilesRead?.(done);
  }
  const union = relations.map((t) => `SELECT * FROM ${t}`).join(" UNION ALL BY NAME ");
  await duck.run(`CREATE OR REPLACE TEMP VIEW ${request.target} AS ${union || "SELECT NULL WHERE false"}`);
  await checkNulls(duck, request, relations);
}

/**
 * A row without key, LSN, commit time or op cannot be placed in history: name its file and offset. (An
 * incremental-snapshot read has no LSN: checkChanges made sure its `__sequence` places it.)
 */
async function checkNulls(duck: Duck, request: StageRequest, relations: string[]): Promise<void> {
  const required = [...request.primaryKey, ...REQUIRED_META];
  const isNull = (c: string) => (c === "__lsn" ? "(__lsn IS NULL AND __op <> 'r')" : `${ident(c)} IS NULL`);
  const test = required.map(isNull).join(" OR ");
  for (const relation of relations) {
    const [bad] = await duck.rows(
      `SELECT __source_file, __kafka_offset, ${required
        .map((c) => `${isNull(c)} AS ${ident(c)}`)
        .join(", ")} FROM ${relation} WHERE ${test} LIMIT 1`,
    );
    if (bad) {
      const missing = required.filter((c) => bad[c] === true).join(", ");
      throw new Scd2Error(
        `${request.table}: ${String(bad.__source_file)} has a row (offset ${String(bad.__kafka_offset)}) with NULL ${missing}`,
      );
    }
  }
}
