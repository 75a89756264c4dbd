import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { Json } from "@duckdb/node-api";
import { DirectoryStorage } from "../../../analytics/src/storage";
import type { Storage } from "../../../analytics/src/storage";
import { runScd2 } from "../../../analytics/src/job";
import type { RunOptions, RunSummary, TableSpec } from "../../../analytics/src/job";

/** A column of a fixture change file: its DuckDB type in the file and its Avro type in the footer. */
export interface FixtureColumn {
  name: string;
  duck: string;
  avro: unknown;
}

const optional = (type: unknown) => ["null", type];
const debezium = (type: string, name: string) => ({ type, "connect.version": 1, "connect.name": name });

/** Debezium's metadata columns, as ExtractNewRecordState adds them (add.fields op,table,lsn,txId,source.ts_ms,sequence + __deleted). */
export const META_COLUMNS: FixtureColumn[] = [
  { name: "__deleted", duck: "VARCHAR", avro: optional("string") },
  { name: "__op", duck: "VARCHAR", avro: optional("string") },
  { name: "__table", duck: "VARCHAR", avro: optional("string") },
  { name: "__lsn", duck: "BIGINT", avro: optional("long") },
  { name: "__txId", duck: "BIGINT", avro: optional("long") },
  { name: "__source_ts_ms", duck: "BIGINT", avro: optional("long") },
  { name: "__sequence", duck: "VARCHAR", avro: optional("string") },
];

/** commerce.products as Debezium delivers it (numeric(10,2), timestamp(6), timestamptz, date, text). */
export const PRODUCT_COLUMNS: FixtureColumn[] = [
  { name: "id", duck: "INTEGER", avro: "int" },
  { name: "name", duck: "VARCHAR", avro: "string" },
  {
    name: "price",
    duck: "DECIMAL(10,2)",
    avro: {
      type: "bytes",
      scale: 2,
      precision: 10,
      "connect.version": 1,
      "connect.parameters": { scale: "2", "connect.decimal.precision": "10" },
      "connect.name": "org.apache.kafka.connect.data.Decimal",
      logicalType: "decimal",
    },
  },
  { name: "created_at", duck: "BIGINT", avro: debezium("long", "io.debezium.time.MicroTimestamp") },
  {
    name: "updated_at",
    duck: "VARCHAR",
    avro: optional(debezium("string", "io.debezium.time.ZonedTimestamp")),
  },
  { name: "released", duck: "INTEGER", avro: optional(debezium("int", "io.debezium.time.Date")) },
  { name: "description", duck: "VARCHAR", avro: optional("string") },
];

export function avroSchema(topic: string, columns: readonly FixtureColumn[]): string {
  return JSON.stringify({
    type: "record",
    name: "Value",
    namespace: topic,
    fields: columns.map((c) => ({
      name: c.name,
      type: c.avro,
      ...(Array.isArray(c.avro) ? { default: null } : {}),
    })),
    "connect.name": `${topic}.Value`,
  });
}

export type Values = Record<string, string | number | boolean | null | string[]>;

/** A change event: op, lsn, tx and commit time, plus row values. Deletes get REPLICA IDENTITY DEFAULT filler. */
export interface Change {
  op: "r" | "c" | "u" | "d";
  /** null: an incremental-snapshot read. */
  lsn: number | null;
  tx?: number | null;
  ts: number;
  row: Values;
  /** `__sequence` as Debezium writes it; default `[null, "<lsn>"]`. */
  sequence?: string | null;
}

export const at = (iso: string): number => Date.parse(iso);

/** A products row with `name` set and every other column fixed. */
export const product = (id: number, name: string): Values => ({
  id,
  name,
  price: 1,
  created_at: 1704067200000000,
  updated_at: "2024-01-01T00:00:00.000000Z",
  released: 19723,
  description: "text",
});

/** An update committed at second `second` of 2024-03-01 (UTC). */
export const u = (lsn: number, second: number, row: Values): Change => ({
  op: "u",
  lsn,
  ts: at(`2024-03-01T00:00:${String(second).padStart(2, "0")}Z`),
  row,
});

/** What REPLICA IDENTITY DEFAULT puts in a delete's non-key columns: a type default, not data. */
function deleteFiller(type: string): Values[string] {
  if (type.endsWith("[]")) return [];
  return type === "VARCHAR" || type === "BLOB" ? "" : 0;
}

/** The row the sink writes for a change (the delete's non-key columns are type defaults, not data). */
export function sinkRow(change: Change, table: string, columns: readonly FixtureColumn[]): Values {
  const values: Values = {};
  for (const c of columns) {
    if (change.op === "d" && c.name !== "id") values[c.name] = deleteFiller(c.duck);
    else values[c.name] = change.row[c.name] ?? null;
  }
  return {
    ...values,
    __deleted: change.op === "d" ? "true" : "false",
    __op: change.op,
    __table: table.split(".")[1] ?? table,
    __lsn: change.lsn,
    __txId: change.tx === undefined ? 1000 + (change.lsn ?? 0) : change.tx,
    __source_ts_ms: change.ts,
    __sequence: change.sequence !== undefined ? change.sequence : JSON.stringify([null, String(change.lsn)]),
  };
}

let fixtureDb: Promise<DuckDBInstance> | undefined;
async function fixtureDuck() {
  fixtureDb ??= DuckDBInstance.create(":memory:");
  return (await fixtureDb).connect();
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export function fileKey(topic: string, partition: number, offset: number, ext: string): string {
  return `${topic}/partition=${partition}/${topic}+${partition}+${String(offset).padStart(10, "0")}.${ext}`;
}

/** Writes rows as the S3 sink's ParquetFormat would: typed columns, the Avro schema in the footer. */
export async function writeParquetFile(
  root: string,
  key: string,
  topic: string,
  columns: readonly FixtureColumn[],
  rows: readonly Values[],
  options: { codec?: string; withSchema?: boolean; avroSchema?: string } = {},
): Promise<void> {
  const target = path.join(root, key);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const json = `${target}.rows.json`;
  await fs.writeFile(json, rows.map((r) => JSON.stringify(r)).join("\n"));
  const spec = columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.duck)}`).join(", ");
  const schema = options.avroSchema ?? avroSchema(topic, columns);
  const kv =
    options.withSchema === false ? "" : `, KV_METADATA {'parquet.avro.schema': ${sqlString(schema)}}`;
  const connection = await fixtureDuck();
  try {
    await connection.run(
      `COPY (SELECT * FROM read_json(${sqlString(json)}, format='newline_delimited', hive_partitioning = false, columns={${spec}})) TO ${sqlString(target)} (FORMAT parquet, COMPRESSION ${options.codec ?? "snappy"}${kv})`,
    );
  } finally {
    connection.closeSync();
    await fs.rm(json);
  }
}

/** A source bucket directory holding the sink layout. */
export class SourceBucket {
  private constructor(readonly root: string) {}

  static async create(): Promise<SourceBucket> {
    return new SourceBucket(await tempDir("scd2-source-"));
  }

  /** Writes changes as one Parquet file at `offset` of `partition`; returns its key. */
  async parquet(
    table: string,
    partition: number,
    offset: number,
    changes: readonly Change[],
    columns: readonly FixtureColumn[] = PRODUCT_COLUMNS,
    options: { codec?: string; ext?: string; withSchema?: boolean } = {},
  ): Promise<string> {
    const topic = `cdc.${table}`;
    const key = fileKey(topic, partition, offset, options.ext ?? "snappy.parquet");
    const all = [...columns, ...META_COLUMNS];
    await writeParquetFile(
      this.root,
      key,
      topic,
      all,
      changes.map((c) => sinkRow(c, table, columns)),
      options,
    );
    return key;
  }

  /** Writes rows (already in sink form) as a JSON-lines file; returns its key. */
  async json(
    table: string,
    partition: number,
    offset: number,
    lines: readonly string[],
    ext = "json",
  ): Promise<string> {
    const topic = `cdc.${table}`;
    const key = fileKey(topic, partition, offset, ext);
    const target = path.join(this.root, key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, lines.join("\n") + "\n");
    return key;
  }

  storage(): DirectoryStorage {
    return new DirectoryStorage(this.root);
  }
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export const PRODUCTS: TableSpec = { table: "commerce.products" };

/** Runs the job from `source` into `output` (directory paths), with a fresh work dir. */
export async function run(
  source: string | Storage,
  output: string | Storage,
  options: Partial<RunOptions> = {},
): Promise<RunSummary> {
  return runScd2({
    source: typeof source === "string" ? new DirectoryStorage(source) : source,
    output: typeof output === "string" ? new DirectoryStorage(output) : output,
    tables: [PRODUCTS],
    topicPrefix: "cdc",
    fullRefresh: false,
    workDir: await tempDir("scd2-work-"),
    threads: 2,
    memoryLimit: "1GB",
    ...options,
  });
}

/** Every row of an output table (`<output>/<dir>/**‍/*.parquet`), as JSON values, sorted. */
export async function readTable(
  output: string,
  dir: string,
  orderBy = "id, effective_from",
): Promise<Record<string, Json>[]> {
  const connection = await fixtureDuck();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const glob = path.join(output, dir, "**", "*.parquet");
    const reader = await connection.runAndReadAll(
      `SELECT * FROM read_parquet(${sqlString(glob)}) ORDER BY ${orderBy}`,
    );
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync();
  }
}

/** Runs a query on a fresh connection (for asserting on output files). */
export async function query(sql: string): Promise<Record<string, Json>[]> {
  const connection = await fixtureDuck();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    return (await connection.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    connection.closeSync();
  }
}
