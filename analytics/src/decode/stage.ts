import type { SourceFile } from "../discovery";
import type { Duck } from "../duck";
import { Scd2Error, messageOf } from "../errors";
import { ident, literal, literalList, readParquet } from "../sql";
import type { ColumnEncoding } from "../types";
import { AVRO_SCHEMA_KEY, encodingsFromAvroSchema } from "./avro";
import { DOUBLE_DIGITS, decimalPrecisionOf, decodeExpression, jsonReadType } from "./columns";
import { firstBadJsonLine } from "./json-lines";

/** A source file with the local path DuckDB reads it from. */
export interface LocalSourceFile {
  readonly file: SourceFile;
  readonly path: string;
}

export interface StageRequest {
  table: string;
  primaryKey: readonly string[];
  columnTypes: Readonly<Record<string, ColumnEncoding>>;
  files: readonly LocalSourceFile[];
  /** Name of the view to create over the staged events. */
  target: string;
  /**
   * Read Parquet files in place (views that decode as they read) instead of copying them into temp
   * tables: a full build reads its input twice, which costs less than holding it decoded (and spilling).
   */
  inPlace: boolean;
  /** The table's stored columns and types (empty for a new table): how to read a JSON column that is all null. */
  tableColumns: ReadonlyMap<string, string>;
  onFilesRead?: (done: number) => void;
}

/** Debezium metadata columns every change file must have (add.fields op, lsn, source.ts_ms). */
const REQUIRED_META = ["__op", "__lsn", "__source_ts_ms"] as const;

/** The staged view's unique row id: the file's index in the high bits, the row's number in it in the low. */
export const ROW_ID = "_row";
const ROWS_PER_FILE = 2 ** 40;
/** Files read per DuckDB statement: bounds statement size and gives progress. */
const FILES_PER_READ = 256;

/** A file with its index among all files of the request (the high bits of its rows' `_row`). */
interface IndexedFile {
  local: LocalSourceFile;
  index: number;
}

interface ReadGroup {
  files: IndexedFile[];
  columns: { name: string; type: string }[];
  encodings: Map<string, ColumnEncoding>;
}

/** Replaces local staging paths by source keys in a DuckDB message, so errors name the source file. */
function withKeys(message: string, files: readonly LocalSourceFile[]): string {
  return files.reduce((text, { file, path }) => text.replaceAll(path, file.key), message);
}

async function describe(duck: Duck, from: string): Promise<{ name: string; type: string }[]> {
  const rows = await duck.rows(`DESCRIBE SELECT * FROM ${from}`);
  return rows.map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
}

/** Runs `action`; on failure, throws an Scd2Error naming the file (and table). */
async function onFile<T>(
  table: string,
  file: LocalSourceFile,
  what: string,
  action: () => Promise<T>,
): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof Scd2Error) throw error;
    throw new Scd2Error(`${table}: cannot ${what} ${file.file.key}: ${withKeys(messageOf(error), [file])}`, {
      cause: error,
    });
  }
}

/** The Avro schema text in each Parquet file's footer (undefined when absent), read in one statement. */
async function footerSchemas(
  duck: Duck,
  table: string,
  files: readonly LocalSourceFile[],
): Promise<Map<string, string>> {
  const sql = (paths: string[]) =>
    `SELECT file_name, decode(value) AS schema FROM parquet_kv_metadata(${literalList(paths)}) WHERE decode(key) = ${literal(AVRO_SCHEMA_KEY)}`;
  try {
    const rows = await duck.rows(sql(files.map((f) => f.path)));
    return new Map(rows.map((row) => [String(row.file_name), String(row.schema)]));
  } catch {
    // Find the file at fault, to name it.
    for (const file of files)
      await onFile(table, file, "read the Parquet footer of", () => duck.rows(sql([file.path])));
    throw new Scd2Error(`${table}: cannot read the Parquet footers of its change files`);
  }
}

function encodingsFor(request: StageRequest, file: LocalSourceFile | undefined, schema: string | undefined) {
  let encodings = new Map<string, ColumnEncoding>();
  if (schema !== undefined) {
    try {
      encodings = encodingsFromAvroSchema(schema);
    } catch (error) {
      throw new Scd2Error(`${request.table}: unreadable schema in ${file?.file.key}: ${messageOf(error)}`);
    }
  }
  for (const [name, encoding] of Object.entries(request.columnTypes)) encodings.set(name, encoding);
  return encodings;
}

/** Groups Parquet files by footer schema; one DESCRIBE per group (the sink starts a new file per schema). */
async function parquetGroups(duck: Duck, request: StageRequest, files: IndexedFile[]): Promise<ReadGroup[]> {
  const schemas = await footerSchemas(
    duck,
    request.table,
    files.map((f) => f.local),
  );
  const bySchema = new Map<string, IndexedFile[]>();
  for (const file of files) {
    const key = schemas.get(file.local.path) ?? "";
    bySchema.set(key, [...(bySchema.get(key) ?? []), file]);
  }
  const groups: ReadGroup[] = [];
  for (const [schema, members] of bySchema) {
    const first = members[0]!.local;
    const columns = await onFile(request.table, first, "read", () =>
      describe(duck, readParquet([first.path])),
    );
    const encodings = encodingsFor(request, first, schema === "" ? undefined : schema);
    for (let i = 0; i < members.length; i += FILES_PER_READ) {
      groups.push({ files: members.slice(i, i + FILES_PER_READ), columns, encodings });
    }
  }
  return groups;
}

/**
 * JSON files carry no schema, and DuckDB infers one per file: a column that is null in every record of a
 * file comes out as JSON there, and text read as JSON fails ("Malformed JSON"). So all of a request's
 * JSON files are described together, over every record (a file where a column is all null adds nothing
 * to its type), and each file is then read with those columns. A column's type is, in this order: its
 * encoding's, the detected one, the table's stored one (when the detected one is JSON: the column is
 * null in every record read), JSON (it really holds mixed or nested values). A column that is null in
 * every record and that the table has no type for is left out until a value shows its type.
 */
async function jsonGroups(duck: Duck, request: StageRequest, files: IndexedFile[]): Promise<ReadGroup[]> {
  const paths = files.map((f) => f.local.path);
  const read = (extra = "") =>
    `read_json(${literalList(paths)}, format='newline_delimited', hive_partitioning = false, union_by_name = true, sample_size = -1${extra})`;
  const detected = await describe(duck, read()).catch(async (error: unknown) => {
    throw await jsonFileError(
      request.table,
      files.map((f) => f.local),
      error,
    );
  });
  const encodings = encodingsFor(request, undefined, undefined);
  const required = new Set<string>([...request.primaryKey, ...REQUIRED_META]);
  const columns: { name: string; type: string }[] = [];
  for (const { name, type } of detected) {
    const encoding = encodings.get(name);
    const known = request.tableColumns.get(name);
    let readType = (encoding && jsonReadType(encoding)) ?? type;
    if (readType === "JSON" && (encoding === undefined || encoding === "as-is")) {
      const [row] = await duck.rows(
        `SELECT count(${ident(name)}) AS n FROM ${read(`, columns = {${literal(name)}: 'JSON'}`)}`,
      );
      const allNull = Number(row?.n) === 0;
      if (allNull && known !== undefined) readType = known;
      else if (allNull && !required.has(name)) continue;
    }
    columns.push({ name, type: readType });
  }
  return files.map((file) => ({ files: [file], columns, encodings }));
}

/**
 * A Scd2Error for a JSON read that failed: the file and line that do not parse (found by reading the
 * files again here, since DuckDB's own line number is off by one), else DuckDB's message.
 */
async function jsonFileError(
  table: string,
  files: readonly LocalSourceFile[],
  error: unknown,
): Promise<Scd2Error> {
  for (const file of files) {
    const bad = await firstBadJsonLine(file.path);
    if (bad !== undefined) {
      return new Scd2Error(
        `${table}: ${file.file.key} line ${bad.line} (Kafka offset ${file.file.startOffset + bad.record}) is not a JSON object: ${bad.reason}`,
        { cause: error },
      );
    }
  }
  return new Scd2Error(`${table}: cannot read change files: ${withKeys(messageOf(error), files)}`, {
    cause: error,
  });
}

/** The column holding a JSON record's text, when a decimal needs it (see exactJsonNumber in columns.ts). */
const RAW_LINE = "__cdc_raw_line";

/** A JSON group with a decimal column wider than a double holds exactly. */
function needsRawLines(group: ReadGroup): boolean {
  return (
    group.files[0]!.local.file.format === "json" &&
    group.columns.some(
      (c) => c.type === "JSON" && (decimalPrecisionOf(group.encodings.get(c.name)) ?? 0) > DOUBLE_DIGITS,
    )
  );
}

/** The rows of one group's files (`r`, with `filename` and `file_row_number`), joined to their file (`f`). */
function groupRows(group: ReadGroup): string {
  const first = group.files[0]!.local;
  const fileRows = group.files
    .map(
      ({ local: { file, path }, index }) =>
        `(${literal(path)}, ${literal(file.key)}, ${file.partition}, ${file.startOffset}, ${index})`,
    )
    .join(", ");
  const columnsArg = group.columns.map((c) => `${literal(c.name)}: ${literal(c.type)}`).join(", ");
  const file = literal(first.path);
  // Each record's text beside it (both reads keep the file's order), where a number needs its exact text.
  const raw = needsRawLines(group)
    ? ` POSITIONAL JOIN (SELECT json AS ${RAW_LINE} FROM read_json_objects(${file}, format='newline_delimited'))`
    : "";
  const from =
    first.file.format === "json"
      ? `(SELECT * FROM (SELECT *, ${file} AS filename, row_number() OVER () - 1 AS file_row_number FROM read_json(${file}, format='newline_delimited', hive_partitioning = false, columns={${columnsArg}}))${raw})`
      : readParquet(group.files.map((f) => f.local.path));
  return `${from} r JOIN (VALUES ${fileRows}) f(path, key, part, start, idx) ON r.filename = f.path`;
}

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
    ${isDelete} AS _del, f.idx * ${ROWS_PER_FILE} + r.file_row_number AS ${ROW_ID}
  FROM ${groupRows(group)}`;
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
  const [bad] = await duck.rows(
    `SELECT f.key, f.start + r.file_row_number AS offset, ${op} AS op, trim(CAST(r.__lsn AS VARCHAR), '"') AS lsn, ${badOp} AS bad_op, ${badKeyName} AS bad_key
     FROM ${groupRows(group)} WHERE ${[badOp, badLsn, ...badKey].join(" OR ")} ORDER BY f.idx, r.file_row_number LIMIT 1`,
  );
  if (!bad) return;
  const where = `${request.table}: ${String(bad.key)} has a row (offset ${String(bad.offset)})`;
  if (bad.bad_op === true)
    throw new Scd2Error(
      `${where} with unknown __op ${JSON.stringify(bad.op)} (expected one of ${KNOWN_OPS.join(", ")})`,
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
 * __kafka_partition, __kafka_offset, _r, _del`, and a unique `_row`.
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

/** A row without key, LSN, commit time or op cannot be placed in history: name its file and offset. */
async function checkNulls(duck: Duck, request: StageRequest, relations: string[]): Promise<void> {
  const required = [...request.primaryKey, ...REQUIRED_META];
  const test = required.map((c) => `${ident(c)} IS NULL`).join(" OR ");
  for (const relation of relations) {
    const [bad] = await duck.rows(
      `SELECT __source_file, __kafka_offset, ${required
        .map((c) => `${ident(c)} IS NULL AS ${ident(c)}`)
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
