// How the change files of a request are grouped and read: Parquet files by footer schema, JSON files
// with the table's column types; the raw rows of a group as one relation (see stage.ts for the rest).
import type { SourceFile } from "../discovery";
import type { Duck } from "../duck";
import { Scd2Error, messageOf } from "../errors";
import { ident, literal, literalList, readParquet } from "../sql";
import type { ColumnEncoding } from "../types";
import { AVRO_SCHEMA_KEY, encodingsFromAvroSchema } from "./avro";
import { DOUBLE_DIGITS, decimalPrecisionOf, jsonReadType } from "./columns";
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
export const REQUIRED_META = ["__op", "__lsn", "__source_ts_ms"] as const;

/** Files read per DuckDB statement: bounds statement size and gives progress. */
const FILES_PER_READ = 256;

/** A file with its index among all files of the request (the high bits of its rows' `_row`). */
export interface IndexedFile {
  local: LocalSourceFile;
  index: number;
}

export interface ReadGroup {
  files: IndexedFile[];
  columns: { name: string; type: string }[];
  encodings: Map<string, ColumnEncoding>;
}

/** Replaces local staging paths by source keys in a DuckDB message, so errors name the source file. */
export function withKeys(message: string, files: readonly LocalSourceFile[]): string {
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
export async function parquetGroups(
  duck: Duck,
  request: StageRequest,
  files: IndexedFile[],
): Promise<ReadGroup[]> {
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
export async function jsonGroups(
  duck: Duck,
  request: StageRequest,
  files: IndexedFile[],
): Promise<ReadGroup[]> {
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
  const readType = (name: string, type: string) => {
    const encoding = encodings.get(name);
    return (encoding && jsonReadType(encoding)) ?? type;
  };
  // Which columns read as JSON for want of a type (not by their encoding) hold any value, in one pass.
  const asDelivered = (name: string) => [undefined, "as-is"].includes(encodings.get(name));
  const jsonTyped = detected.filter((c) => asDelivered(c.name) && c.type === "JSON");
  const counts = jsonTyped.length
    ? ((
        await duck.rows(
          `SELECT ${jsonTyped.map((c, i) => `count(${ident(c.name)}) AS c${i}`).join(", ")} FROM ${read(
            `, columns = {${jsonTyped.map((c) => `${literal(c.name)}: 'JSON'`).join(", ")}}`,
          )}`,
        )
      )[0] ?? {})
    : {};
  const columns: { name: string; type: string }[] = [];
  for (const { name, type } of detected) {
    let read = readType(name, type);
    const index = jsonTyped.findIndex((c) => c.name === name);
    if (index >= 0 && Number(counts[`c${index}`]) === 0) {
      const known = request.tableColumns.get(name);
      if (known !== undefined) read = known;
      else if (!required.has(name)) continue;
    }
    columns.push({ name, type: read });
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
export const RAW_LINE = "__cdc_raw_line";

/** A JSON group with a decimal column wider than a double holds exactly. */
export function needsRawLines(group: ReadGroup): boolean {
  return (
    group.files[0]!.local.file.format === "json" &&
    group.columns.some(
      (c) => c.type === "JSON" && (decimalPrecisionOf(group.encodings.get(c.name)) ?? 0) > DOUBLE_DIGITS,
    )
  );
}

/** The rows of one group's files (`r`, with `filename` and `file_row_number`), joined to their file (`f`). */
export function groupRows(group: ReadGroup): string {
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
