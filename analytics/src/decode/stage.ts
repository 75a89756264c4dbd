import type { SourceFile } from "../discovery";
import type { Duck } from "../duck";
import { Scd2Error, messageOf } from "../errors";
import { ident, literal, literalList, readParquet } from "../sql";
import type { ColumnEncoding } from "../types";
import { AVRO_SCHEMA_KEY, encodingsFromAvroSchema } from "./avro";
import { decodeExpression, jsonReadType } from "./columns";

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

function encodingsFor(request: StageRequest, file: LocalSourceFile, schema: string | undefined) {
  let encodings = new Map<string, ColumnEncoding>();
  if (schema !== undefined) {
    try {
      encodings = encodingsFromAvroSchema(schema);
    } catch (error) {
      throw new Scd2Error(`${request.table}: unreadable schema in ${file.file.key}: ${messageOf(error)}`);
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

/** JSON files carry no schema: each is described on its own, with the table's column types applied. */
async function jsonGroup(
  duck: Duck,
  request: StageRequest,
  { local: file, index }: IndexedFile,
): Promise<ReadGroup> {
  const detected = await onFile(request.table, file, "read", () =>
    describe(duck, `read_json(${literal(file.path)}, format='newline_delimited', hive_partitioning = false)`),
  );
  const encodings = encodingsFor(request, file, undefined);
  const columns = detected.map(({ name, type }) => {
    const encoding = encodings.get(name);
    return { name, type: (encoding && jsonReadType(encoding)) ?? type };
  });
  return { files: [{ local: file, index }], columns, encodings };
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
  const from =
    first.file.format === "json"
      ? `(SELECT *, ${literal(first.path)} AS filename, row_number() OVER () - 1 AS file_row_number FROM read_json(${literal(first.path)}, format='newline_delimited', hive_partitioning = false, columns={${columnsArg}}))`
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
        const decoded = decodeExpression(c.name, c.type, group.encodings.get(c.name), "f.key");
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
  const [bad] = await duck.rows(
    `SELECT f.key, f.start + r.file_row_number AS offset, ${op} AS op, trim(CAST(r.__lsn AS VARCHAR), '"') AS lsn, ${badOp} AS bad_op
     FROM ${groupRows(group)} WHERE ${badOp} OR ${badLsn} ORDER BY f.idx, r.file_row_number LIMIT 1`,
  );
  if (!bad) return;
  const where = `${request.table}: ${String(bad.key)} has a row (offset ${String(bad.offset)})`;
  throw new Scd2Error(
    bad.bad_op === true
      ? `${where} with unknown __op ${JSON.stringify(bad.op)} (expected one of ${KNOWN_OPS.join(", ")})`
      : `${where} whose __lsn ${JSON.stringify(bad.lsn)} is not a whole number`,
  );
}

/**
 * Reads the given change files into temp tables (or, `inPlace`, views over the Parquet files) and
 * creates view `target` over them: every source column decoded, the union of all files' columns by
 * name (a column a file lacks is NULL), plus `__op, __lsn, __txId, __source_ts_ms, __source_file,
 * __kafka_partition, __kafka_offset, _r, _del`, and a unique `_row`.
 * Throws Scd2Error naming the file for unreadable files or schemas, missing columns and NULL keys.
 */
export async function stageEvents(duck: Duck, request: StageRequest): Promise<void> {
  const indexed = request.files.map((local, index) => ({ local, index }));
  const parquet = indexed.filter((f) => f.local.file.format === "parquet");
  const groups = parquet.length > 0 ? await parquetGroups(duck, request, parquet) : [];
  for (const file of indexed.filter((f) => f.local.file.format === "json")) {
    groups.push(await jsonGroup(duck, request, file));
  }
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
