/**
 * Parquet files as the S3 sink's ParquetFormat (parquet-avro) writes them, written by DuckDB:
 * values are staged as JSON columns, typed by the Connect schema, and copied to Parquet
 * with the Avro schema in the footer's key/value metadata.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { randomBytes } from "node:crypto";
import { closeSync, constants, ftruncateSync, openSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { avroSchemaJson } from "./avro-schema";
import {
  DECIMAL_NAME,
  PRECISION_PARAMETER,
  decimalToPlainString,
  isDecimal,
  type ConnectSchema,
  type ConnectValue,
} from "./connect-schema";
import type { ParquetCodec } from "./sink-config";

const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`;
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

const SCALAR_TYPES: Record<string, string> = {
  INT8: "INTEGER",
  INT16: "INTEGER",
  INT32: "INTEGER",
  INT64: "BIGINT",
  FLOAT32: "FLOAT",
  FLOAT64: "DOUBLE",
  BOOLEAN: "BOOLEAN",
  STRING: "VARCHAR",
};

/** How a value is staged in JSON (bytes as base64, decimals as text) → the DuckDB type to read it as. */
function stagedType(schema: ConnectSchema): string {
  if (schema.type === "BYTES") return "VARCHAR";
  if (schema.type === "ARRAY") return `${stagedType(schema.valueSchema!)}[]`;
  if (schema.type === "MAP")
    return `STRUCT("key" ${stagedType(schema.keySchema!)}, "value" ${stagedType(schema.valueSchema!)})[]`;
  if (schema.type === "STRUCT") {
    return `STRUCT(${schema.fields!.map((f) => `${ident(f.name)} ${stagedType(f.schema)}`).join(", ")})`;
  }
  return SCALAR_TYPES[schema.type]!;
}

/** The SQL expression turning a staged value into what parquet-avro writes (read back by DuckDB). */
function finalExpr(schema: ConnectSchema, expr: string): string {
  if (schema.name === DECIMAL_NAME) {
    // AvroData's precision when the schema has none is 64; DuckDB reads a Parquet decimal wider
    // than 38 digits as DOUBLE, so that is what such a column is written as here.
    const precision = Number(schema.parameters?.[PRECISION_PARAMETER] ?? 64);
    if (precision > 38) return `CAST(${expr} AS DOUBLE)`;
    return `CAST(${expr} AS DECIMAL(${precision}, ${schema.parameters?.scale ?? 0}))`;
  }
  switch (schema.name) {
    case "org.apache.kafka.connect.data.Date":
      return `(DATE '1970-01-01' + ${expr})`;
    case "org.apache.kafka.connect.data.Time":
      // 86,400,000 ms is PostgreSQL's end of day, 24:00:00, which DuckDB's TIME holds: adding a whole
      // day to 00:00 would wrap it to 00:00:00.
      return `(CASE WHEN ${expr} = 86400000 THEN TIME '24:00:00' ELSE TIME '00:00:00' + to_milliseconds(${expr}) END)`;
    case "org.apache.kafka.connect.data.Timestamp":
      return `CAST(epoch_ms(${expr}) AS TIMESTAMP_MS)`;
  }
  if (schema.type === "BYTES") return `from_base64(${expr})`;
  if (schema.type === "ARRAY") {
    const inner = finalExpr(schema.valueSchema!, "x");
    return inner === "x" ? expr : `list_transform(${expr}, x -> ${inner})`;
  }
  if (schema.type === "MAP") {
    const key = finalExpr(schema.keySchema!, "e.key");
    const value = finalExpr(schema.valueSchema!, "e.value");
    const entries =
      key === "e.key" && value === "e.value"
        ? expr
        : `list_transform(${expr}, e -> struct_pack("key" := ${key}, "value" := ${value}))`;
    return `map_from_entries(${entries})`;
  }
  if (schema.type === "STRUCT") {
    const parts = schema.fields!.map(
      (f) => `${ident(f.name)} := ${finalExpr(f.schema, `${expr}.${ident(f.name)}`)}`,
    );
    return `CASE WHEN ${expr} IS NULL THEN NULL ELSE struct_pack(${parts.join(", ")}) END`;
  }
  return expr;
}

/** A value as staged JSON: bytes as base64, decimals as plain text, maps as key/value entries. */
function staged(value: ConnectValue): unknown {
  // A bigint as its digits: DuckDB casts the string to BIGINT exactly.
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (isDecimal(value)) return decimalToPlainString(value);
  if (Array.isArray(value)) return value.map(staged);
  if (value instanceof Map) return [...value].map(([key, v]) => ({ key, value: staged(v) }));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = staged(v);
  return out;
}

/** Whether a value of `schema` is staged as JSON.stringify writes it anyway (numbers, strings, booleans). */
function stagedAsIs(schema: ConnectSchema): boolean {
  if (schema.type === "BYTES" || schema.type === "MAP") return false;
  // An INT64 beyond ±2^53 (an int8 column, or a time far from 1970) is a bigint, which JSON.stringify
  // refuses.
  if (schema.type === "INT64") return false;
  if (schema.type === "ARRAY") return stagedAsIs(schema.valueSchema!);
  if (schema.type === "STRUCT") return schema.fields!.every((f) => stagedAsIs(f.schema));
  return true;
}

type Row = Record<string, ConnectValue>;

/** Rows staged for DuckDB: lines of JSON, each an object of columns; the longest line's length. */
export interface StagedRows {
  lines: string[];
  longest: number;
  /** Per field of the schema: whether it holds one value in every row, staged once per line. */
  constant: boolean[];
}

/** Rows per staged line: one line stays far below V8's string limit (512 MiB) whatever a row holds. */
const ROWS_PER_LINE = 10_000;

/**
 * The rows of `schema` as JSON objects of columns (`{"id": [1, 2], "name": ["a", "b"]}`): the names once
 * per line, not once per row, so stringifying costs less and DuckDB reads fewer bytes. A column holding
 * one value in every row (a transaction's op, table and commit time; a column a bulk update set to one
 * value) is staged as that value, not a list, and repeated by the query that reads it back: a
 * 1,000-row file of bench:capture's rows stages in 0.52–0.55 ms instead of 0.81–0.83, as half the text
 * for DuckDB to parse (measured). Called when the file is committed: the queue then holds strings,
 * which the garbage collector need not trace.
 */
export function stageRows(schema: ConnectSchema, rows: Row[]): StagedRows {
  const lines: string[] = [];
  let longest = 0;
  const fields = schema.fields!;
  const constant = fields.map((f) => rows.length > 1 && sameEverywhere(rows, f.name));
  // One column stays a list: the lists' length is what gives each line its number of rows.
  if (constant.length > 0 && constant.every(Boolean)) constant[0] = false;
  for (let start = 0; start < rows.length; start += ROWS_PER_LINE) {
    const end = Math.min(rows.length, start + ROWS_PER_LINE);
    const columns: Record<string, unknown> = {};
    for (const [f, field] of fields.entries()) {
      const name = field.name;
      const asIs = stagedAsIs(field.schema);
      if (constant[f]) {
        const value = rows[start]![name] ?? null;
        columns[name] = asIs ? value : staged(value);
        continue;
      }
      const values = new Array<unknown>(end - start);
      for (let i = start; i < end; i += 1) {
        const value = rows[i]![name] ?? null;
        values[i - start] = asIs ? value : staged(value);
      }
      columns[name] = values;
    }
    const line = `${JSON.stringify(columns)}\n`;
    longest = Math.max(longest, line.length);
    lines.push(line);
  }
  return { lines, longest, constant };
}

/** Whether every row holds the same primitive value (or nothing) in `name`. */
function sameEverywhere(rows: Row[], name: string): boolean {
  const first = rows[0]![name] ?? null;
  if (first !== null && typeof first === "object") return false;
  for (let i = 1; i < rows.length; i += 1) if ((rows[i]![name] ?? null) !== first) return false;
  return true;
}

interface Reader {
  /** The select list typing the staged values as parquet-avro writes them. */
  select: string;
  /** Per field: its `read_json` column as a list and as one value, and its `unnest` or repeat. */
  fields: { list: string; one: string; unnest: string; repeat: string }[];
}

/**
 * Per schema, once: what reads its staged columns back as rows, typed as parquet-avro writes them. The
 * per-field pieces are joined for each file by which of its columns are constant, so that no
 * combination is kept.
 */
const readers = new WeakMap<ConnectSchema, Reader>();
function selectFrom(schema: ConnectSchema, stage: string, staged: StagedRows): string {
  let reader = readers.get(schema);
  if (reader === undefined) {
    const fields = schema.fields!;
    reader = {
      select: fields.map((f) => `${finalExpr(f.schema, ident(f.name))} AS ${ident(f.name)}`).join(", "),
      fields: fields.map((f) => ({
        list: `${sqlString(f.name)}: ${sqlString(`${stagedType(f.schema)}[]`)}`,
        one: `${sqlString(f.name)}: ${sqlString(stagedType(f.schema))}`,
        unnest: `unnest(c.${ident(f.name)}) AS ${ident(f.name)}`,
        repeat: `c.${ident(f.name)} AS ${ident(f.name)}`,
      })),
    };
    readers.set(schema, reader);
  }
  const pieces = reader.fields;
  const columns = pieces.map((p, i) => (staged.constant[i] ? p.one : p.list)).join(", ");
  // Several unnests in one select zip their lists: row i of every column together; a constant column's
  // one value is repeated beside them.
  const unnest = pieces.map((p, i) => (staged.constant[i] ? p.repeat : p.unnest)).join(", ");
  // A line is one JSON object: its length bounds it (a UTF-16 unit is at most 3 UTF-8 bytes).
  const size = Math.max(16_777_216, staged.longest * 3);
  const read = `read_json(${sqlString(stage)}, format = 'newline_delimited', columns = {${columns}}, maximum_object_size = ${size})`;
  return `SELECT ${reader.select} FROM (SELECT ${unnest} FROM ${read} c)`;
}

const metadata = new WeakMap<ConnectSchema, string>();
/** The footer's key/value metadata, as parquet-avro writes it. */
function kvMetadata(schema: ConnectSchema): string {
  let kv = metadata.get(schema);
  if (kv === undefined) {
    kv = `{'parquet.avro.schema': ${sqlString(avroSchemaJson(schema))}, 'writer.model.name': 'avro'}`;
    metadata.set(schema, kv);
  }
  return kv;
}

/**
 * Writes the staged text on the calling thread, over the lane's staging file (cut to the new length).
 * A write into the page cache costs the main thread less than an asynchronous write's three trips
 * through libuv's pool, which waited behind the DuckDB statements (11 ms a file, the slot paused 45% of
 * the capture). Overwriting one file per lane instead of creating and removing one per Parquet file
 * spares the file system's directory and allocation work: 0.02 ms of CPU a 64 KB file against
 * 0.09–0.14 ms (measured). Opened by path each time, so a removed temp folder fails with ENOENT, which
 * writeDurably answers by making it again.
 */
function writeStage(path: string, staged: StagedRows): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT);
  try {
    // On a descriptor opened anew, writeFileSync writes from the start and repeats until all is written.
    let length = 0;
    for (const line of staged.lines) {
      writeFileSync(fd, line);
      length += Buffer.byteLength(line);
    }
    ftruncateSync(fd, length);
  } finally {
    closeSync(fd);
  }
}

/** Files written at once (one DuckDB connection each), so staging one overlaps copying another. */
export const PARQUET_WRITERS = 2;

/** A DuckDB connection and the statements queued on it. */
interface Lane {
  connection: DuckDBConnection;
  pending: number;
  tail: Promise<unknown>;
  /**
   * The name of the lane's staging file, in the folder of the files it writes: each statement's rows
   * are staged there, over the last ones (the lane runs one statement at a time). Drawn at random, as
   * writeDurably names its temp files, so that runtimes sharing a folder never touch each other's.
   */
  stage: string;
}

export class ParquetWriter {
  /** The staging files this writer has used (close removes them: their names are its own). */
  private readonly stages = new Set<string>();
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly lanes: Lane[],
  ) {}

  static async open(): Promise<ParquetWriter> {
    // One thread per statement: each connection writes one small file at a time, and two statements of
    // one thread each run side by side with less scheduling than two threads sharing each (measured).
    const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
    const id = randomBytes(6).toString("hex");
    const lanes: Lane[] = [];
    for (let i = 0; i < PARQUET_WRITERS; i += 1) {
      const connection = await instance.connect();
      lanes.push({ connection, pending: 0, tail: Promise.resolve(), stage: `.tmp-${id}-stage${i}.json` });
    }
    return new ParquetWriter(instance, lanes);
  }

  /** Writes staged rows of `schema` to `target` (not yet renamed into place; the caller fsyncs). */
  async write(target: string, schema: ConnectSchema, staged: StagedRows, codec: ParquetCodec): Promise<void> {
    const compression = codec === "none" ? "uncompressed" : codec;
    await this.run((lane) => {
      const stage = join(dirname(target), lane.stage);
      this.stages.add(stage);
      writeStage(stage, staged);
      return `COPY (${selectFrom(schema, stage, staged)}) TO ${sqlString(target)} (FORMAT parquet, COMPRESSION ${compression}, KV_METADATA ${kvMetadata(schema)})`;
    });
  }

  /**
   * Runs the statement `prepare` returns on the connection with the fewest statements queued, after
   * them (`prepare` runs when the connection is free: it may use the lane's staging file). A statement
   * runs on one of libuv's four pool threads; a second one sent to a busy connection would wait there
   * for its lock, holding a thread the file system calls (writes, fsyncs) need.
   */
  private run(prepare: (lane: Lane) => string): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error("the Parquet writer is closed"));
    const lane = this.lanes.reduce((best, l) => (l.pending < best.pending ? l : best));
    lane.pending += 1;
    const done = lane.tail.then(() => lane.connection.run(prepare(lane)));
    lane.tail = done.catch(() => undefined);
    return done.finally(() => (lane.pending -= 1));
  }

  /** Waits for the statements queued, then removes the staging files and closes DuckDB. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.lanes.map((lane) => lane.tail));
    for (const stage of this.stages) rmSync(stage, { force: true });
    for (const lane of this.lanes) lane.connection.closeSync();
    this.instance.closeSync();
  }
}
