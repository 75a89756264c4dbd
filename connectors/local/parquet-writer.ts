/**
 * Parquet files as the S3 sink's ParquetFormat (parquet-avro) writes them, written by DuckDB:
 * values are staged as a JSON array, typed by the Connect schema, and copied to Parquet
 * with the Avro schema in the footer's key/value metadata.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { rm, writeFile } from "node:fs/promises";
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
      return `(TIME '00:00:00' + to_milliseconds(${expr}))`;
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
  if (schema.type === "ARRAY") return stagedAsIs(schema.valueSchema!);
  if (schema.type === "STRUCT") return schema.fields!.every((f) => stagedAsIs(f.schema));
  return true;
}

type Row = Record<string, ConnectValue>;

/**
 * The rows of `schema` as one JSON array for `read_json(format = 'array')`, which reads a missing key as
 * null and ignores keys not in `columns`. A row is written as it is, but for the fields JSON.stringify
 * would not write as staged (bytes, decimals, maps): one native call for the whole file.
 */
function stagedJson(schema: ConnectSchema, rows: Row[]): string {
  const converted = schema.fields!.filter((f) => !stagedAsIs(f.schema)).map((f) => f.name);
  if (converted.length === 0) return JSON.stringify(rows);
  const out = new Array<Row>(rows.length);
  for (let i = 0; i < rows.length; i += 1) {
    const row = rows[i]!;
    const copy: Record<string, unknown> = { ...row };
    for (const name of converted) copy[name] = staged(row[name] ?? null);
    out[i] = copy as Row;
  }
  return JSON.stringify(out);
}

/** Per schema, once: the select list and `columns` that read its staged rows. */
const readers = new WeakMap<ConnectSchema, { select: string; columns: string }>();
function selectFrom(schema: ConnectSchema, stage: string): string {
  let reader = readers.get(schema);
  if (reader === undefined) {
    const fields = schema.fields!;
    reader = {
      select: fields.map((f) => `${finalExpr(f.schema, ident(f.name))} AS ${ident(f.name)}`).join(", "),
      columns: fields.map((f) => `${sqlString(f.name)}: ${sqlString(stagedType(f.schema))}`).join(", "),
    };
    readers.set(schema, reader);
  }
  return `SELECT ${reader.select} FROM read_json(${sqlString(stage)}, format = 'array', columns = {${reader.columns}}, maximum_object_size = 268435456)`;
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

/** Files written at once (one DuckDB connection each), so staging one overlaps copying another. */
export const PARQUET_WRITERS = 2;

export class ParquetWriter {
  private next = 0;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connections: DuckDBConnection[],
  ) {}

  static async open(): Promise<ParquetWriter> {
    // One thread per statement: each connection writes one small file at a time, and two statements of
    // one thread each run side by side with less scheduling than two threads sharing each (measured).
    const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
    const connections: DuckDBConnection[] = [];
    for (let i = 0; i < PARQUET_WRITERS; i += 1) connections.push(await instance.connect());
    return new ParquetWriter(instance, connections);
  }

  /** Writes `rows` (values of `schema`) to `target` (not yet renamed into place; the caller fsyncs). */
  async write(target: string, schema: ConnectSchema, rows: Row[], codec: ParquetCodec): Promise<void> {
    const stage = `${target}.json`;
    const compression = codec === "none" ? "uncompressed" : codec;
    try {
      await writeFile(stage, stagedJson(schema, rows));
      this.next = (this.next + 1) % this.connections.length;
      await this.connections[this.next]!.run(
        `COPY (${selectFrom(schema, stage)}) TO ${sqlString(target)} (FORMAT parquet, COMPRESSION ${compression}, KV_METADATA ${kvMetadata(schema)})`,
      );
    } finally {
      await rm(stage, { force: true });
    }
  }

  close(): void {
    for (const connection of this.connections) connection.closeSync();
    this.instance.closeSync();
  }
}
