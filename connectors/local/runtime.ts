/**
 * The local connector runtime: the Debezium PostgreSQL source (snapshot, then the slot) feeding
 * the S3 sink emulation directly, without Kafka. The slot is acknowledged only up to what is in
 * durable files, so a crash replays (at-least-once) and loses nothing.
 */
import { join } from "node:path";
import pg from "pg";
import pino, { type Logger } from "pino";
import type { ConnectorInput } from "./connector-input";
import { OffsetFile } from "./durable";
import { DurabilityTracker } from "./progress";
import { parseSinkConfig } from "./sink-config";
import { S3SinkEmulator } from "./sink";
import { runSnapshot } from "./snapshot";
import { parseSourceConfig, type SourceSettings } from "./source-config";
import { SlotStream } from "./stream";
import { TableRecordBuilder, type UnwrappedRecord } from "./unwrap";
import type { TableInfo } from "./catalog";

export interface ConnectorRuntimeOptions {
  source: ConnectorInput;
  sink: ConnectorInput;
  /** Directory standing in for S3: objects go to `<bucketRoot>/<s3.bucket.name>/<topics.dir>/...`. */
  bucketRoot: string;
  logger?: Logger;
  /** Called once if the runtime fails after starting (a sink write, the replication connection). */
  onError?: (err: Error) => void;
}

export interface RuntimeStats {
  snapshotRecords: number;
  transactions: number;
  records: number;
  files: number;
  recordsInFiles: number;
  pendingRecords: number;
  /** Last acknowledged LSN, as PostgreSQL prints it. */
  acknowledgedLsn: string | null;
}

export interface ConnectorRuntime {
  /** Commits every open file and waits until all records received so far are durable. */
  flush(): Promise<void>;
  /** Flushes, acknowledges, and disconnects. */
  stop(): Promise<void>;
  stats(): RuntimeStats;
}

/** The source offset, as Debezium stores it in Connect's offset storage. */
interface SourceOffset {
  lsn: string;
  lsn_commit: string | null;
  txId: number | null;
  snapshot_completed: boolean;
}

function clientConfig(settings: SourceSettings): pg.ClientConfig {
  const db = settings.database;
  return { host: db.host, port: db.port, user: db.user, password: db.password, database: db.dbname, ssl: db.ssl ? { rejectUnauthorized: false } : undefined };
}

export async function startConnectorRuntime(options: ConnectorRuntimeOptions): Promise<ConnectorRuntime> {
  const logger = options.logger ?? pino({ level: "info" });
  const source = parseSourceConfig(options.source);
  const sinkSettings = parseSinkConfig(options.sink);
  if (sinkSettings.format.type === "parquet" && !source.valueSchemas) {
    throw new Error(`${source.name}: value.converter.schemas.enable=false gives schemaless records, which ParquetFormat cannot write`);
  }
  const offsets = new OffsetFile<SourceOffset>(join(options.bucketRoot, ".connect-offsets", `source-${source.name}.json`));
  const stored = await offsets.read();
  const stats = { snapshotRecords: 0, transactions: 0, records: 0 };
  let acknowledged: bigint | null = null;
  let stream: SlotStream | undefined;
  let failed: Error | undefined;
  const fail = (err: Error): void => {
    if (failed) return;
    failed = err;
    logger.error({ err }, "connector runtime failed");
    options.onError?.(err);
  };

  // What acknowledging a transaction stores: the slot position and Debezium's lastCommitLsn.
  let snapshotDone = stored?.snapshot_completed ?? false;
  const tracker = new DurabilityTracker((tx) => {
    acknowledged = tx.endLsn;
    stream?.acknowledge(tx.endLsn);
    const offset: SourceOffset = {
      lsn: tx.endLsn.toString(),
      lsn_commit: tx.seq === 0 ? null : tx.endLsn.toString(),
      txId: tx.txId,
      snapshot_completed: snapshotDone || tx.seq === 0,
    };
    snapshotDone = offset.snapshot_completed;
    offsets.write(offset).catch((err: Error) => fail(err));
  });
  const sink = await S3SinkEmulator.open(sinkSettings, options.bucketRoot, (seqs) => tracker.durable(seqs), logger);
  const deliver = (seq: number, records: UnwrappedRecord[]): void => {
    const now = Date.now();
    for (const record of records) {
      if (!sink.accepts(record.topic)) continue;
      stats.records += 1;
      tracker.add(seq);
      try {
        sink.put({ ...record, txSeq: seq }, now);
      } catch (err) {
        fail(err as Error);
      }
    }
  };
  const makeBuilder = (info: TableInfo): TableRecordBuilder =>
    new TableRecordBuilder(info, source.topicPrefix, source.modes, source.unwrap, (column, type) =>
      logger.warn({ table: `${info.schema}.${info.table}`, column, type }, "column of an unsupported type skipped (include.unknown.datatypes=false)"),
    );

  const catalog = new pg.Client({ ...clientConfig(source), options: "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=iso_8601 -c extra_float_digits=3" });
  await catalog.connect();
  catalog.on("error", (err) => fail(err));
  let startLsn = stored ? BigInt(stored.lsn) : 0n;
  try {
    const needSnapshot =
      source.snapshotMode === "always" ||
      (!snapshotDone && source.snapshotMode !== "no_data") ||
      (source.snapshotMode === "initial_only" && !snapshotDone);
    if (needSnapshot) {
      const result = await runSnapshot(catalog, source, makeBuilder, (records) => deliver(0, records));
      stats.snapshotRecords = result.records;
      startLsn = result.lsn;
      tracker.commit({ seq: 0, endLsn: result.lsn, txId: result.txId });
      logger.info({ records: result.records, lsn: result.lsn.toString() }, "snapshot read");
    }
  } catch (err) {
    await catalog.end().catch(() => undefined);
    await sink.close();
    throw err;
  }

  const lastCommitLsn = stored?.lsn_commit ? BigInt(stored.lsn_commit) : null;
  stream = new SlotStream(source, catalog, makeBuilder, {
    begin: () => undefined,
    records: (seq, records) => deliver(seq, records),
    commit: (seq, endLsn, txId) => {
      stats.transactions += 1;
      tracker.commit({ seq, endLsn, txId });
    },
    error: fail,
  }, logger, { txSeq: 0, lastCommitLsn });
  if (source.snapshotMode !== "initial_only") {
    await stream.start(clientConfig(source), startLsn);
    stream.onKeepalive(() => acknowledged !== null && stream?.acknowledge(acknowledged));
  }

  const timers: NodeJS.Timeout[] = [];
  if (sinkSettings.rotateScheduleIntervalMs > 0) {
    const every = Math.max(50, Math.min(1000, Math.floor(sinkSettings.rotateScheduleIntervalMs / 4)));
    timers.push(setInterval(() => sink.tick(Date.now()), every));
  }
  if (sinkSettings.rotateIntervalMs > 0) {
    logger.warn("rotate.interval.ms has no effect with the DefaultPartitioner (no record-time extractor), as in the S3 sink");
  }
  if (source.heartbeatIntervalMs > 0 && source.heartbeatActionQuery) {
    const query = source.heartbeatActionQuery;
    timers.push(
      setInterval(() => {
        catalog.query(query).catch((err: Error) => logger.warn({ err }, "heartbeat.action.query failed"));
      }, source.heartbeatIntervalMs),
    );
  }

  let stopped = false;
  return {
    flush: async () => {
      if (failed) throw failed;
      await sink.flush();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearInterval(t);
      try {
        if (!failed) await sink.flush();
      } finally {
        await stream?.stop();
        await sink.close();
        await catalog.end().catch(() => undefined);
      }
      if (failed) throw failed;
    },
    stats: () => {
      const s = sink.stats();
      return {
        ...stats,
        files: s.files,
        recordsInFiles: s.records,
        pendingRecords: tracker.pending(),
        acknowledgedLsn: acknowledged === null ? null : `${(acknowledged >> 32n).toString(16).toUpperCase()}/${(acknowledged & 0xffffffffn).toString(16).toUpperCase()}`,
      };
    },
  };
}
