/**
 * `npm run bench:capture`: the local connector runtime on an embedded PostgreSQL.
 *  1. bulk: N updates (transactions of `rows` updates) committed while the runtime is down, then
 *     changes/s from the runtime's start to the last record in a durable file (decode, convert,
 *     write: the capture path alone, not PostgreSQL's own update speed);
 *  2. real Debezium on Kafka Connect, on a second slot that holds the same committed updates: changes/s
 *     from the connector's creation to the last record in Kafka (skip with --no-debezium);
 *  3. latency: single-row inserts at a low rate, commit-to-durable-file latency (flush.size=1);
 *  4. the ceiling: the walsender decoding the same updates for `pg_recvlogical -f /dev/null` (Debian's
 *     postgresql-client; the targets' ceiling) and, on another slot, for a raw consumer that discards
 *     them unread (the walsender alone, about twice as fast), and the runtime's share of each.
 * Each figure with a target says the target and whether it was met.
 * Options: --rows 100000 --transactions 10 --flush-size 1000 --latency-samples 50 --no-debezium --keep-data
 * Results as JSON on stdout; progress on stderr (a bar on a terminal, JSON log lines otherwise).
 */
import { Command } from "commander";
import { readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import pino from "pino";
import { createProgress } from "../common/progress";
import { startConnectorRuntime, type ConnectorRuntime } from "../connectors/local";
import { startEmbeddedPostgres } from "../local/postgres";
import { measureDebeziumCapture } from "./debezium-capture";
import {
  measurePgRecvlogical,
  measureWalsenderCeiling,
  pgRecvlogicalMissing,
  waitForSlotRelease,
} from "./walsender-ceiling";

/** The runtime's own logs: warnings only. */
const logger = pino({ level: "warn" });
/** Progress of the benchmark: bars on a terminal, a JSON line every 5 s otherwise. */
const progress = createProgress({ component: "bench-capture", jsonIntervalMs: 5_000 });

/** Shows `done()` of `total` while `work` runs. */
async function withProgress<T>(
  phase: string,
  total: number,
  done: () => number,
  work: Promise<T>,
): Promise<T> {
  const bar = progress.bar("bench-progress", phase, total);
  const timer = setInterval(() => bar.update(done()), 200);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    bar.update(done());
    bar.finish();
  }
}

/**
 * The main thread's CPU time in seconds (Linux's per-thread scheduler count, in nanoseconds), or
 * undefined where /proc does not give it. The runtime's main thread decodes, builds records and stages
 * them: its CPU per change follows the code, and the machine's load moves it much less than the rate.
 */
function mainThreadCpuSeconds(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e9;
  } catch {
    return undefined;
  }
}

class OptionError extends Error {}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new OptionError(`${name} must be a positive integer, got "${value}"`);
  return n;
}

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

const target = (figure: string, goal: string, met: boolean) => ({ figure, target: goal, met });

/**
 * The runtime's reports of durable files (its onFileDurable), as promises: each phase ends on an event,
 * not by polling the runtime's stats, which would wake the main thread the bench measures.
 */
class DurableFiles {
  private waiter: (() => void) | undefined;
  readonly observe = (): void => this.waiter?.();

  /** When `done()` first holds, checked now and at each report; rejects after `timeoutMs`. */
  when(done: () => boolean, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("benchmark timed out")), timeoutMs);
      this.waiter = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(performance.now());
      };
      this.waiter();
    });
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
  run: (runtime: ConnectorRuntime, started: number, files: DurableFiles) => Promise<T>,
): Promise<T> {
  await db.query(`CREATE PUBLICATION pub_${name} FOR TABLE bench.items`);
  await db.query(`SELECT pg_create_logical_replication_slot('slot_${name}', 'pgoutput')`);
  await before();
  const { source, sink } = configs(port, `slot_${name}`, `pub_${name}`, flushSize);
  const files = new DurableFiles();
  const started = performance.now();
  // A runtime that fails ends the run at once, with its error, instead of leaving it to its timeout.
  let failed: (err: Error) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  // The race below reports it; this keeps a failure before the race is set up from counting as unhandled.
  failure.catch(() => undefined);
  const runtime = await startConnectorRuntime({
    source,
    sink,
    bucketRoot,
    logger,
    onFileDurable: files.observe,
    onError: failed,
  });
  try {
    return await Promise.race([run(runtime, started, files), failure]);
  } finally {
    await runtime.stop();
    await dropSlot(db, `slot_${name}`);
  }
}

/** Drops `slot` once its walsender let go of it. */
async function dropSlot(db: pg.Client, slot: string): Promise<void> {
  await waitForSlotRelease(db, slot);
  await db.query("SELECT pg_drop_replication_slot($1)", [slot]);
}

async function main(): Promise<void> {
  const opts = new Command("bench:capture")
    .option("--rows <n>", "rows updated per transaction", (v) => positiveInt(v, "--rows"), 100_000)
    .option("--transactions <n>", "bulk transactions", (v) => positiveInt(v, "--transactions"), 10)
    .option("--flush-size <n>", "flush.size for the bulk run", (v) => positiveInt(v, "--flush-size"), 1000)
    .option(
      "--latency-samples <n>",
      "single-row commits for the latency run",
      (v) => positiveInt(v, "--latency-samples"),
      50,
    )
    .option("--no-debezium", "skip the real Debezium phase (it needs Java and Maven)")
    .option("--keep-data", "keep .bench/capture after the run", false)
    .parse(process.argv)
    .opts() as {
    rows: number;
    transactions: number;
    flushSize: number;
    latencySamples: number;
    debezium: boolean;
    keepData: boolean;
  };
  const { rows, transactions } = opts;
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
    /** The WAL's end once the updates are committed: where pg_recvlogical stops. */
    let workloadEnd = "";
    const workload = async (): Promise<void> => {
      const start = performance.now();
      let committed = 0;
      const updates = async (): Promise<void> => {
        for (let t = 1; t <= transactions; t += 1) {
          await db.query(`UPDATE bench.items SET n = ${t}, updated_at = now()`);
          committed += rows;
        }
      };
      await withProgress("PostgreSQL updates", total, () => committed, updates());
      postgresMs = performance.now() - start;
      workloadEnd = (await db.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!
        .lsn;
    };
    // These slots are made before the workload, so they hold the same committed changes.
    await db.query("CREATE PUBLICATION pub_ceiling FOR TABLE bench.items");
    await db.query("SELECT pg_create_logical_replication_slot('slot_ceiling', 'pgoutput')");
    const recvlogicalMissing = pgRecvlogicalMissing();
    if (!recvlogicalMissing)
      await db.query("SELECT pg_create_logical_replication_slot('slot_recvlogical', 'pgoutput')");
    if (opts.debezium) {
      await db.query("CREATE PUBLICATION pub_debezium FOR TABLE bench.items");
      await db.query("SELECT pg_create_logical_replication_slot('slot_debezium', 'pgoutput')");
    }
    const bulk = await withRuntime(
      db,
      server.port,
      "bulk",
      opts.flushSize,
      join(root, "bucket-bulk"),
      workload,
      async (runtime, started, files) => {
        const inFiles = (): number => runtime.stats().recordsInFiles;
        // The runtime runs in this process: its CPU time (every thread) and the main thread's busy share.
        const cpu = process.cpuUsage();
        const mainCpu = mainThreadCpuSeconds();
        const loop = performance.eventLoopUtilization();
        await withProgress(
          "capture",
          total,
          inFiles,
          files.when(() => inFiles() >= total, 600_000),
        );
        const used = process.cpuUsage(cpu);
        const mainCpuEnd = mainThreadCpuSeconds();
        return {
          seconds: (performance.now() - started) / 1000,
          files: runtime.stats().files,
          cpuSeconds: (used.user + used.system) / 1e6,
          mainThreadCpuSeconds:
            mainCpu !== undefined && mainCpuEnd !== undefined ? mainCpuEnd - mainCpu : undefined,
          mainThreadBusy: performance.eventLoopUtilization(loop).utilization,
        };
      },
    );
    const seconds = bulk.seconds;
    const ceiling = await withProgress(
      "walsender ceiling",
      1,
      () => 0,
      measureWalsenderCeiling(server.connectionString, "slot_ceiling", "pub_ceiling", total),
    );
    await db.query("SELECT pg_drop_replication_slot('slot_ceiling')");
    const ceilingPerSecond = Math.round(ceiling.changes / ceiling.seconds);
    const recvlogical = recvlogicalMissing
      ? undefined
      : await withProgress(
          "pg_recvlogical ceiling",
          1,
          () => 0,
          measurePgRecvlogical(server.connectionString, "slot_recvlogical", "pub_ceiling", workloadEnd),
        );
    if (recvlogical) await db.query("SELECT pg_drop_replication_slot('slot_recvlogical')");
    const recvlogicalPerSecond = recvlogical && Math.round(total / recvlogical.seconds);

    let debeziumRecords = 0;
    const debezium = opts.debezium
      ? await withProgress(
          "Debezium capture",
          total,
          () => debeziumRecords,
          measureDebeziumCapture({
            dir: join(root, "debezium"),
            sourceConfig: configs(server.port, "slot_debezium", "pub_debezium", opts.flushSize).source,
            table: "bench.items",
            total,
            onProgress: (records) => (debeziumRecords = records),
          }),
        )
      : undefined;

    const samples = opts.latencySamples;
    const latencies = await withRuntime(
      db,
      server.port,
      "latency",
      1,
      join(root, "bucket-latency"),
      async () => undefined,
      async (runtime, _started, files) => {
        const out: number[] = [];
        const measure = async (): Promise<void> => {
          for (let i = 0; i < samples; i += 1) {
            // The commit's file is the next one the runtime reports durable.
            const before = runtime.stats().files;
            const durable = files.when(() => runtime.stats().files > before, 30_000);
            await db.query(`UPDATE bench.items SET n = n + 1 WHERE id = ${i + 1}`);
            const committed = performance.now();
            out.push((await durable) - committed);
            await new Promise((r) => setTimeout(r, 100));
          }
        };
        await withProgress("latency", samples, () => out.length, measure());
        return out.sort((a, b) => a - b);
      },
    );
    // The capture targets hold for the default workload (1,000,000 updates in 10 transactions, flush.size
    // 1000): a run of another shape reports its figures but meets neither.
    const offTarget =
      total === 1_000_000 && transactions === 10 && opts.flushSize === 1000
        ? ""
        : `: not the targets' workload (${total} updates in ${transactions} transactions, flush.size ${opts.flushSize})`;
    const pct = (p: number): string =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
    const result = {
      machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
      bulk: {
        changes: total,
        transactions,
        flushSize: opts.flushSize,
        files: bulk.files,
        postgresUpdateSeconds: Number((postgresMs / 1000).toFixed(2)),
        captureSeconds: Number(seconds.toFixed(2)),
        changesPerSecond: Math.round(total / seconds),
        shareOfPgRecvlogical:
          recvlogicalPerSecond && Number((total / seconds / recvlogicalPerSecond).toFixed(2)),
        shareOfRawCeiling: Number((total / seconds / ceilingPerSecond).toFixed(2)),
        // CPU of the runtime's process (all threads, from its start's end) per change; the machine's load
        // moves the rate, much less this.
        cpuMicrosPerChange: Number(((bulk.cpuSeconds * 1e6) / total).toFixed(2)),
        // The main thread's share of it (null where the system does not report a thread's CPU time).
        mainThreadCpuMicrosPerChange:
          bulk.mainThreadCpuSeconds === undefined
            ? null
            : Number(((bulk.mainThreadCpuSeconds * 1e6) / total).toFixed(2)),
        mainThreadBusy: Number(bulk.mainThreadBusy.toFixed(2)),
        loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
      },
      ceiling: {
        pgRecvlogical: recvlogical
          ? { seconds: Number(recvlogical.seconds.toFixed(2)), changesPerSecond: recvlogicalPerSecond }
          : { unavailable: recvlogicalMissing },
        rawConsumer: {
          changes: ceiling.changes,
          seconds: Number(ceiling.seconds.toFixed(2)),
          changesPerSecond: ceilingPerSecond,
        },
      },
      debezium: debezium && {
        changes: total,
        captureSeconds: Number(debezium.seconds.toFixed(2)),
        firstRecordSeconds: Number(debezium.firstRecordSeconds.toFixed(2)),
        changesPerSecond: Math.round(total / debezium.seconds),
        localRuntimeSpeedup: Number((debezium.seconds / seconds).toFixed(2)),
      },
      latencyMs: { samples, p50: pct(0.5), p95: pct(0.95), max: pct(1) },
      targets: [
        target(
          offTarget ? `capture changes/s${offTarget}` : "capture changes/s (flush.size 1000)",
          ">= 150000",
          !offTarget && total / seconds >= 150_000,
        ),
        target(
          recvlogicalPerSecond
            ? `capture share of the walsender ceiling (pg_recvlogical)${offTarget}`
            : `capture share of the walsender ceiling: not measured, ${recvlogicalMissing}`,
          ">= 0.60",
          !offTarget && recvlogicalPerSecond !== undefined && total / seconds / recvlogicalPerSecond >= 0.6,
        ),
        target("commit-to-durable-file latency p50, ms", "< 10", Number(pct(0.5)) < 10),
      ],
    };
    progress.close();
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    progress.close();
    await db.end();
    await server.stop();
    if (!opts.keepData) rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  if (err instanceof OptionError) {
    process.stderr.write(`bench:capture: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench:capture failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
