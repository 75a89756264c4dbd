/** Test harness: an embedded PostgreSQL per test file, connector configs, and reading the bucket back. */
import { DuckDBInstance } from "@duckdb/node-api";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../../local/postgres";
import {
  startConnectorRuntime,
  type ConnectorRuntime,
  type ConnectorRuntimeOptions,
} from "../../../connectors/local";

export interface Harness {
  pg: EmbeddedPostgres;
  root: string;
  db: pg.Client;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const root = mkdtempSync(join(tmpdir(), "cdc-runtime-"));
  chmodSync(root, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: join(root, "pgdata") });
  const db = new pg.Client(server.connectionString);
  await db.connect();
  return {
    pg: server,
    root,
    db,
    close: async () => {
      await db.end();
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** An embedded PostgreSQL for the enclosing `describe`: filled in before its tests, stopped after them. */
export function useHarness(): Harness {
  const h = {} as Harness;
  beforeAll(async () => {
    Object.assign(h, await startHarness());
  });
  afterAll(async () => h.close?.());
  return h;
}

let counter = 0;

/** A fresh publication + slot over `tables`, and connector configs pointing at them. */
export async function captureSetup(
  h: Harness,
  tables: string[],
  overrides: { source?: Record<string, string>; sink?: Record<string, string> } = {},
): Promise<{
  source: Record<string, string>;
  sink: Record<string, string>;
  bucketRoot: string;
  slot: string;
}> {
  counter += 1;
  const slot = `slot_${process.pid}_${counter}`;
  const publication = `pub_${process.pid}_${counter}`;
  await h.db.query(`CREATE PUBLICATION ${publication} FOR TABLE ${tables.join(", ")}`);
  await h.db.query(`SELECT pg_create_logical_replication_slot('${slot}', 'pgoutput')`);
  const bucketRoot = join(h.root, `bucket-${counter}`);
  const source = {
    name: `src-${counter}`,
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "tasks.max": "1",
    "plugin.name": "pgoutput",
    "database.hostname": "127.0.0.1",
    "database.port": String(h.pg.port),
    "database.user": "postgres",
    "database.password": "password",
    "database.dbname": "postgres",
    "database.sslmode": "disable",
    "topic.prefix": "cdc",
    "table.include.list": tables.join(","),
    "slot.name": slot,
    "publication.name": publication,
    "publication.autocreate.mode": "disabled",
    "snapshot.mode": "initial",
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "key.converter.schemas.enable": "true",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "true",
    transforms: "unwrap",
    "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
    "transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
    "transforms.unwrap.add.fields": "op,table,lsn,txId,source.ts_ms,sequence",
    ...overrides.source,
  };
  const sink = {
    name: `sink-${counter}`,
    "connector.class": "io.confluent.connect.s3.S3SinkConnector",
    "tasks.max": "1",
    topics: tables.map((t) => `cdc.${t}`).join(","),
    "s3.bucket.name": "bucket",
    "s3.region": "eu-west-1",
    "storage.class": "io.confluent.connect.s3.storage.S3Storage",
    "topics.dir": "cdc_data",
    "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat",
    "parquet.codec": "snappy",
    "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
    "flush.size": "1000",
    "behavior.on.null.values": "ignore",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "true",
    ...overrides.sink,
  };
  return { source, sink, bucketRoot, slot };
}

export const quietLogger = pino({ level: "silent" });

/** Starts the runtime on `setup`, quiet, with `observers` (onRecord, onError) if given. */
export async function runtimeFor(
  setup: Awaited<ReturnType<typeof captureSetup>>,
  observers: Pick<ConnectorRuntimeOptions, "onError" | "onRecord" | "onFileDurable"> = {},
): Promise<ConnectorRuntime> {
  return startConnectorRuntime({
    source: setup.source,
    sink: setup.sink,
    bucketRoot: setup.bucketRoot,
    logger: quietLogger,
    ...observers,
  });
}

/** Starts the runtime on `setup` and stops it again: "started", or the message start-up failed with. */
export async function startOutcome(setup: Awaited<ReturnType<typeof captureSetup>>): Promise<string> {
  return runtimeFor(setup).then(
    async (runtime) => {
      await runtime.stop();
      return "started";
    },
    (err: Error) => err.message,
  );
}

/** The connector JSON files the CLI takes: the source as `{name, config}`, the sink as a flat map. */
export function writeConfigFiles(
  h: Harness,
  setup: Awaited<ReturnType<typeof captureSetup>>,
): { sourceFile: string; sinkFile: string } {
  mkdirSync(setup.bucketRoot, { recursive: true });
  const sourceFile = join(h.root, `${setup.source.name}.json`);
  const sinkFile = join(h.root, `${setup.sink.name}.json`);
  writeFileSync(sourceFile, JSON.stringify({ name: setup.source.name, config: setup.source }));
  writeFileSync(sinkFile, JSON.stringify(setup.sink));
  return { sourceFile, sinkFile };
}

/** `cdc-connect-local` from source; node itself (not the tsx wrapper, which would survive as a parent) so signals hit the runtime. */
export function spawnCli(sourceFile: string, sinkFile: string, bucketRoot: string): ChildProcess {
  return spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "connectors/local/cli.ts",
      "--source",
      sourceFile,
      "--sink",
      sinkFile,
      "--bucket-root",
      bucketRoot,
    ],
    { cwd: join(__dirname, "../../.."), stdio: ["ignore", "ignore", "pipe"] },
  );
}

export const exitCode = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => child.once("exit", (code) => resolve(code)));

/** Starts the CLI and resolves once it logs that it is streaming. */
export function startCli(sourceFile: string, sinkFile: string, bucketRoot: string): Promise<ChildProcess> {
  const child = spawnCli(sourceFile, sinkFile, bucketRoot);
  return new Promise((resolve, reject) => {
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('"msg":"streaming"')) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`cdc-connect-local exited early (${code}): ${log}`)));
  });
}

/** Waits until `predicate` holds (polling), or fails after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The files of a topic, in name (= offset) order. */
export function topicFiles(bucketRoot: string, topic: string, topicsDir = "cdc_data"): string[] {
  const dir = join(bucketRoot, "bucket", topicsDir, topic, "partition=0");
  try {
    return readdirSync(dir)
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** Reads Parquet files back with DuckDB: rows as JSON-friendly objects plus each file's Avro schema. */
export async function readParquet(
  files: string[],
  select = "*",
): Promise<{ rows: Record<string, unknown>[]; schemas: unknown[] }> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const rows: Record<string, unknown>[] = [];
    const schemas: unknown[] = [];
    for (const file of files) {
      const result = await connection.runAndReadAll(
        `SELECT ${select} FROM read_parquet('${file}', hive_partitioning = false)`,
      );
      rows.push(...(result.getRowObjectsJson() as Record<string, unknown>[]));
      const meta = await connection.runAndReadAll(
        `SELECT decode(value) AS v FROM parquet_kv_metadata('${file}') WHERE decode(key) = 'parquet.avro.schema'`,
      );
      schemas.push(JSON.parse(String(meta.getRowObjectsJson()[0]?.v)));
    }
    return { rows, schemas };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Column name → DuckDB type name of a Parquet file. */
export async function parquetColumnTypes(file: string): Promise<Record<string, string>> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const result = await connection.runAndReadAll(
      `DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false)`,
    );
    const out: Record<string, string> = {};
    for (const row of result.getRowObjectsJson()) out[String(row.column_name)] = String(row.column_type);
    return out;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Drops the slots no runtime holds any more: the server allows 16, and every capture creates one or two. */
export async function dropInactiveSlots(h: Harness): Promise<void> {
  await h.db.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active");
}

export interface OracleTx {
  xid: number;
  /** End LSN of the commit record (what Debezium calls the commit LSN), decimal. */
  commitLsn: string;
  commitMs: number;
  changes: { lsn: string; table: string; op: string }[];
}

/** A test_decoding slot created next to the runtime's: PostgreSQL's own account of LSNs, xids, commit times. */
export async function createOracle(h: Harness): Promise<() => Promise<OracleTx[]>> {
  counter += 1;
  const slot = `oracle_${process.pid}_${counter}`;
  await h.db.query(`SELECT pg_create_logical_replication_slot('${slot}', 'test_decoding')`);
  return async () => {
    const { rows } = await h.db.query<{ lsn: string; xid: string; data: string }>(
      `SELECT (lsn - '0/0'::pg_lsn)::text AS lsn, xid::text, data FROM pg_logical_slot_get_changes('${slot}', NULL, NULL, 'include-timestamp', '1')`,
    );
    const txs: OracleTx[] = [];
    let current: OracleTx | undefined;
    for (const row of rows) {
      if (row.data.startsWith("BEGIN"))
        current = { xid: Number(row.xid), commitLsn: "", commitMs: 0, changes: [] };
      else if (row.data.startsWith("COMMIT")) {
        const at = /\(at (.+)\)/.exec(row.data)![1]!;
        current!.commitLsn = row.lsn;
        current!.commitMs = Math.floor(Date.parse(at.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00")));
        txs.push(current!);
      } else {
        const m = /^table ([^:]+): (INSERT|UPDATE|DELETE)/.exec(row.data);
        if (m) current!.changes.push({ lsn: row.lsn, table: m[1]!, op: m[2]! });
      }
    }
    return txs;
  };
}
