/**
 * `npm run bench:capture`: the local connector runtime on an embedded PostgreSQL.
 *  1. bulk: N updates (transactions of `rows` updates) committed while the runtime is down, then
 *     changes/s from the runtime's start to the last record in a durable file (decode, convert,
 *     write: the capture path alone, not PostgreSQL's own update speed);
 *  2. latency: single-row inserts at a low rate, commit-to-durable-file latency (flush.size=1).
 * Options: --rows 100000 --transactions 10 --flush-size 1000 --latency-samples 50 --keep-data
 */
import { Command } from "commander";
import { rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import pino from "pino";
import { startConnectorRuntime, type ConnectorRuntime } from "../connectors/local";
import { startEmbeddedPostgres } from "../local/postgres";

const logger = pino({ level: "warn" });

function configs(port: number, slot: string, publication: string, flushSize: number) {
  const source = {
    name: `bench-source-${slot}`,
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "plugin.name": "pgoutput",
    "database.hostname": "127.0.0.1",
    "database.port": String(port),
    "database.user": "postgres",
    "database.password": "password",
    "database.dbname": "postgres",
    "database.sslmode": "disable",
    "topic.prefix": "cdc",
    "table.include.list": "bench.items",
    "slot.name": slot,
    "publication.name": publication,
    "publication.autocreate.mode": "disabled",
    "snapshot.mode": "no_data",
    transforms: "unwrap",
    "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
    "transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
    "transforms.unwrap.add.fields": "op,table,lsn,txId,source.ts_ms,sequence",
  };
  const sink = {
    name: `bench-sink-${slot}`,
    "connector.class": "io.confluent.connect.s3.S3SinkConnector",
    topics: "cdc.bench.items",
    "s3.bucket.name": "bench",
    "s3.region": "eu-west-1",
    "topics.dir": "cdc_data",
    "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat",
    "flush.size": String(flushSize),
    "behavior.on.null.values": "ignore",
  };
  return { source, sink };
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("benchmark timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Creates a slot, runs `before` (changes the runtime will find in the slot), then the runtime. */
async function withRuntime<T>(
  db: pg.Client,
  port: number,
  name: string,
  flushSize: number,
  bucketRoot: string,
  before: () => Promise<void>,
  run: (runtime: ConnectorRuntime, started: number) => Promise<T>,
): Promise<T> {
  await db.query(`CREATE PUBLICATION pub_${name} FOR TABLE bench.items`);
  await db.query(`SELECT pg_create_logical_replication_slot('slot_${name}', 'pgoutput')`);
  await before();
  const { source, sink } = configs(port, `slot_${name}`, `pub_${name}`, flushSize);
  const started = performance.now();
  const runtime = await startConnectorRuntime({ source, sink, bucketRoot, logger });
  try {
    return await run(runtime, started);
  } finally {
    await runtime.stop();
    // The walsender exits shortly after the runtime disconnects.
    for (let i = 0; i < 100; i += 1) {
      const { rows } = await db.query<{ active: boolean }>(
        "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
        [`slot_${name}`],
      );
      if (!rows[0]?.active) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await db.query(`SELECT pg_drop_replication_slot('slot_${name}')`);
  }
}

async function main(): Promise<void> {
  const opts = new Command("bench:capture")
    .option("--rows <n>", "rows updated per transaction", "100000")
    .option("--transactions <n>", "bulk transactions", "10")
    .option("--flush-size <n>", "flush.size for the bulk run", "1000")
    .option("--latency-samples <n>", "single-row commits for the latency run", "50")
    .option("--keep-data", "keep .bench/capture after the run", false)
    .parse(process.argv)
    .opts() as {
    rows: string;
    transactions: string;
    flushSize: string;
    latencySamples: string;
    keepData: boolean;
  };
  const rows = Number(opts.rows);
  const transactions = Number(opts.transactions);
  const root = resolve(".bench/capture");
  rmSync(root, { recursive: true, force: true });
  const server = await startEmbeddedPostgres({ dataDir: join(root, "pgdata") });
  const db = new pg.Client(server.connectionString);
  await db.connect();
  try {
    await db.query("CREATE SCHEMA bench");
    await db.query(
      "CREATE TABLE bench.items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL, n int NOT NULL, updated_at timestamptz NOT NULL)",
    );
    await db.query(
      `INSERT INTO bench.items SELECT i, 'item ' || i, (i % 1000) / 10.0, 0, now() FROM generate_series(1, ${rows}) i`,
    );

    const total = rows * transactions;
    let postgresMs = 0;
    const workload = async (): Promise<void> => {
      const start = performance.now();
      for (let t = 1; t <= transactions; t += 1) {
        await db.query(`UPDATE bench.items SET n = ${t}, updated_at = now()`);
      }
      postgresMs = performance.now() - start;
    };
    const bulk = await withRuntime(
      db,
      server.port,
      "bulk",
      Number(opts.flushSize),
      join(root, "bucket-bulk"),
      workload,
      async (runtime, started) => {
        const probe = process.env.BENCH_PROBE
          ? setInterval(() => process.stderr.write(`${JSON.stringify(runtime.stats())}\n`), 1000)
          : undefined;
        await until(() => runtime.stats().recordsInFiles >= total, 600_000);
        clearInterval(probe);
        return { seconds: (performance.now() - started) / 1000, files: runtime.stats().files };
      },
    );
    const seconds = bulk.seconds;

    const samples = Number(opts.latencySamples);
    const latencies = await withRuntime(
      db,
      server.port,
      "latency",
      1,
      join(root, "bucket-latency"),
      async () => undefined,
      async (runtime) => {
        const out: number[] = [];
        for (let i = 0; i < samples; i += 1) {
          const before = runtime.stats().recordsInFiles;
          await db.query(`UPDATE bench.items SET n = n + 1 WHERE id = ${i + 1}`);
          const committed = performance.now();
          await until(() => runtime.stats().recordsInFiles > before, 30_000);
          out.push(performance.now() - committed);
          await new Promise((r) => setTimeout(r, 100));
        }
        return out.sort((a, b) => a - b);
      },
    );
    const pct = (p: number): string =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
    const result = {
      machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
      bulk: {
        changes: total,
        transactions,
        flushSize: Number(opts.flushSize),
        files: bulk.files,
        postgresUpdateSeconds: Number((postgresMs / 1000).toFixed(2)),
        captureSeconds: Number(seconds.toFixed(2)),
        changesPerSecond: Math.round(total / seconds),
      },
      latencyMs: { samples, p50: pct(0.5), p95: pct(0.95), max: pct(1) },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await db.end();
    await server.stop();
    if (!opts.keepData) rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench:capture failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
