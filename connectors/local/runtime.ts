/**
 * The local connector runtime: the Debezium PostgreSQL source (snapshot, then the slot) feeding
 * the S3 sink emulation directly, without Kafka. The slot is acknowledged only up to what is in
 * durable files, so a crash replays (at-least-once) and loses nothing.
 */
import type pg from "pg";
import pino, { type Logger } from "pino";
import type { TableInfo } from "./catalog";
import { clientConfig, connectTo, explainQueryTimeout, queryClient } from "./connection";
import type { ConnectorInput } from "./connector-input";
import { OffsetFile, offsetFilePath } from "./durable";
import { heartbeatRecord } from "./heartbeat";
import { IncrementalSnapshot, type IncrementalState } from "./incremental";
import { formatLsn } from "./lsn";
import { DurabilityTracker, SourceCommitter, type CommittedTx } from "./progress";
import { checkPublication } from "./publication-check";
import { S3SinkEmulator, type DurableFile } from "./sink";
import { parseSinkConfig, type SinkSettings } from "./sink-config";
import { checkSlot } from "./slot-check";
import { capturedTables, runSnapshot } from "./snapshot";
import { parseSourceConfig, type SourceSettings } from "./source-config";
import { SlotStream } from "./stream";
import { TopicHop } from "./topic-hop";
import { TableRecordBuilder, type UnwrappedRecord } from "./unwrap";

export interface ConnectorRuntimeOptions {
  /** The Debezium PostgreSQL source: `{name, config}` as POSTed to Kafka Connect, or the flat config map. */
  source: ConnectorInput;
  /** The Confluent S3 sink, in the same forms. */
  sink: ConnectorInput;
  /** Directory standing in for S3: objects go to `<bucketRoot>/<s3.bucket.name>/<topics.dir>/...`. */
  bucketRoot: string;
  /** Default: pino at info level on stdout. */
  logger?: Logger;
  /** Called once if the runtime fails after starting (a sink write, the replication connection). */
  onError?: (err: Error) => void;
  /**
   * Sees each record the sink takes (the Connect record after the transform), in Kafka offset order per
   * topic: what a consumer of the topic would read. Tests hold it to real Debezium's.
   */
  onRecord?: (record: UnwrappedRecord) => void;
  /**
   * Sees each file once it is durable (written, renamed into place, its folder fsynced), in commit order
   * per topic: the moment a reader of the bucket can count on it. The latency benchmark times commits with it.
   */
  onFileDurable?: (file: DurableFile) => void;
}

export interface RuntimeStats {
  snapshotRecords: number;
  /** Transactions received from the slot (including ones with no captured change). */
  transactions: number;
  /** Records handed to the sink. */
  records: number;
  files: number;
  recordsInFiles: number;
  /** Records received but not yet in a durable file. */
  pendingRecords: number;
  /** Last acknowledged LSN, as PostgreSQL prints it. */
  acknowledgedLsn: string | null;
}

export interface ConnectorRuntime {
  /** Commits every open file and waits until all records received so far are durable. */
  flush(): Promise<void>;
  /**
   * Flushes, acknowledges, and disconnects; rejects with the runtime's failure, if any. A call while a
   * stop is under way waits for it to end (and does not throw its failure again).
   */
  stop(): Promise<void>;
  stats(): RuntimeStats;
}

/** The source offset, as Debezium keeps it in Connect's offset storage. */
interface SourceOffset {
  lsn: string;
  lsn_commit: string | null;
  txId: number | null;
  snapshot_completed: boolean;
  /** An incremental snapshot in progress (Debezium's `incremental_snapshot_*` offset keys). */
  incremental_snapshot?: IncrementalState;
}

/**
 * Files queued for writing before the slot is paused: enough to keep both writers busy while the slot's
 * stream pauses and resumes (2 left them idle a fifth of the time at flush.size 1000), bounded memory.
 */
const MAX_QUEUED_FILES = 8;
/** Tracker sequence of heartbeat records: in no transaction, so they never hold an acknowledgement back. */
const HEARTBEAT_SEQ = -1;

class LocalConnectorRuntime implements ConnectorRuntime {
  private readonly counts = { snapshotRecords: 0, transactions: 0, records: 0 };
  private readonly catalog: pg.Client;
  private readonly tracker: DurabilityTracker;
  private readonly committer: SourceCommitter<SourceOffset>;
  private readonly stream: SlotStream;
  private readonly topicHop: TopicHop;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly incremental: IncrementalSnapshot | undefined;
  /** The incremental snapshot's state after each committed transaction not yet durable, by sequence. */
  private readonly incrementalAt = new Map<number, IncrementalState | undefined>();
  private closing = false;
  private sink!: S3SinkEmulator;
  private paused = false;
  private snapshotDone: boolean;
  private failed: Error | undefined;
  private onFailure = (): void => undefined;
  /** Resolved by the first failure: a stop waiting for the stream's transaction goes on without it. */
  private readonly failure = new Promise<void>((resolve) => (this.onFailure = resolve));
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly source: SourceSettings,
    private readonly sinkSettings: SinkSettings,
    private readonly offsets: OffsetFile<SourceOffset>,
    private readonly stored: SourceOffset | undefined,
    private readonly logger: Logger,
    private readonly observers: Pick<ConnectorRuntimeOptions, "onError" | "onRecord" | "onFileDurable">,
  ) {
    this.snapshotDone = stored?.snapshot_completed ?? false;
    this.topicHop = new TopicHop(source.valueSchemas);
    this.catalog = queryClient(source);
    this.tracker = new DurabilityTracker((tx) => this.onDurable(tx));
    this.committer = new SourceCommitter(
      (offset) => this.offsets.write(offset),
      (lsn) => this.stream.acknowledge(lsn),
      (err) => this.fail(err),
    );
    this.incremental =
      source.signalTable === undefined
        ? undefined
        : new IncrementalSnapshot(
            this.catalog,
            source.signalTable,
            source.chunkSize,
            async () => (await capturedTables(this.catalog, source)).map((t) => `${t.schema}.${t.table}`),
            (info) => this.builder(info),
            logger,
          );
    this.stream = new SlotStream(
      source,
      this.catalog,
      (info) => this.builder(info),
      {
        records: (seq, records) => this.deliver(seq, records),
        commit: (seq, endLsn, txId) => {
          this.counts.transactions += 1;
          if (this.incremental) this.incrementalAt.set(seq, this.incremental.state());
          this.tracker.commit({ seq, endLsn, txId });
        },
        error: (err) => this.fail(err),
      },
      logger,
      { txSeq: 0, lastCommitLsn: stored?.lsn_commit ? BigInt(stored.lsn_commit) : null },
      this.incremental,
    );
  }

  async start(bucketRoot: string): Promise<void> {
    this.sink = await S3SinkEmulator.open(
      this.sinkSettings,
      bucketRoot,
      {
        onDurable: (seqs) => {
          this.tracker.durable(seqs);
          this.applyBackpressure();
        },
        // A failed sink fails the runtime at once: without more records it would never learn of it.
        onFailure: (err) => this.fail(err),
        onFileDurable: this.observers.onFileDurable,
      },
      this.logger,
    );
    let startLsn = this.stored ? BigInt(this.stored.lsn) : 0n;
    try {
      await connectTo(this.catalog, this.source);
      this.catalog.on("error", (err) => this.fail(err));
      const mode = this.source.snapshotMode;
      // Streaming needs the publication: checked before the snapshot, so a missing one writes nothing.
      if (mode !== "initial_only")
        await checkPublication(this.catalog, this.source.publicationName, this.source.database.dbname);
      if (mode === "always" || (!this.snapshotDone && mode !== "no_data")) {
        const result = await runSnapshot(
          this.catalog,
          this.source,
          (info) => this.builder(info),
          (records) => this.deliver(0, records),
        );
        this.counts.snapshotRecords = result.records;
        startLsn = result.lsn;
        this.tracker.commit({ seq: 0, endLsn: result.lsn, txId: result.txId });
        this.logger.info({ records: result.records, lsn: formatLsn(result.lsn) }, "snapshot read");
      }
      if (mode !== "initial_only") {
        // Streaming on from stored offsets: only if the slot still holds every change after them.
        if (this.stored && startLsn === BigInt(this.stored.lsn))
          await checkSlot(this.catalog, this.source.slotName, this.source.database.dbname, startLsn);
        await this.stream.start(clientConfig(this.source), startLsn);
        this.stream.onKeepalive(() => {
          const lsn = this.committer.acknowledgedLsn();
          if (lsn !== null) this.stream.acknowledge(lsn);
        });
        // Like Debezium on start: an incremental snapshot the offsets show in progress reads its next chunk.
        const resume = this.stored?.incremental_snapshot;
        if (resume && this.incremental) this.stream.hold(this.incremental.resume(resume));
      }
    } catch (err) {
      await this.catalog.end().catch(() => undefined);
      await this.sink.close();
      throw explainQueryTimeout(err as Error, this.source);
    }
    this.startTimers();
  }

  private startTimers(): void {
    const interval = this.sinkSettings.rotateScheduleIntervalMs;
    if (interval > 0) {
      const every = Math.max(50, Math.min(1000, Math.floor(interval / 4)));
      this.timers.push(setInterval(() => this.sink.tick(Date.now()), every));
    }
    if (this.sinkSettings.rotateIntervalMs > 0) {
      this.logger.warn(
        "rotate.interval.ms has no effect with the DefaultPartitioner (no record-time extractor), as in the S3 sink",
      );
    }
    if (this.source.heartbeatIntervalMs > 0)
      this.timers.push(setInterval(() => this.heartbeat(), this.source.heartbeatIntervalMs));
  }

  /**
   * A Debezium heartbeat: the action query (its change travels through the publication, so the
   * slot moves while the captured tables are idle), then a record on the heartbeat topic.
   */
  private heartbeat(): void {
    const query = this.source.heartbeatActionQuery;
    if (query) {
      this.catalog
        .query(query)
        .catch((err: Error) => this.logger.warn({ err }, "heartbeat.action.query failed"));
    }
    const topic = this.source.heartbeatTopic;
    if (this.sink.accepts(topic)) this.deliver(HEARTBEAT_SEQ, [heartbeatRecord(topic, Date.now())]);
  }

  private builder(info: TableInfo): TableRecordBuilder {
    return new TableRecordBuilder(
      info,
      this.source.topicPrefix,
      this.source.modes,
      this.source.unwrap,
      (column, type) =>
        this.logger.warn(
          { table: `${info.schema}.${info.table}`, column, type },
          "column of an unsupported type skipped (include.unknown.datatypes=false)",
        ),
    );
  }

  /** Pauses the slot while files queue up for writing; resumes once the writer has caught up. */
  private applyBackpressure(): void {
    const busy = this.sink.queuedFiles() >= MAX_QUEUED_FILES;
    if (busy !== this.paused) {
      this.paused = busy;
      if (busy) this.stream.pause();
      else this.stream.resume();
    }
  }

  private deliver(seq: number, records: UnwrappedRecord[]): void {
    const now = Date.now();
    for (const record of records) {
      if (!this.sink.accepts(record.topic)) continue;
      this.counts.records += 1;
      this.observers.onRecord?.(record);
      this.tracker.add(seq);
      try {
        // The sink reads the record back from the topic, as the value converter wrote it there.
        this.sink.put(this.topicHop.apply(record), seq, now);
      } catch (err) {
        this.fail(err as Error);
      }
    }
    this.applyBackpressure();
  }

  /**
   * Everything up to `tx` is durable (files and sink offsets): store the source offset, and only
   * once it is stored acknowledge the slot. Acknowledging first would let the slot run ahead of
   * the offset a restart reads: after a kill in between, no stored `snapshot_completed` means a
   * new snapshot, streamed on from its own, later LSN, so the transactions up to it were skipped.
   */
  private onDurable(tx: CommittedTx): void {
    // After a failure a transaction can become durable without the change that failed (a record that was
    // never built or put): storing its offset would skip that change for good. Nothing is stored after
    // one: a restart reads again from the last offset stored before it, as after a crash.
    if (this.failed) return;
    // The snapshot is transaction 0, committed before any streamed one; the tracker reports only the
    // last of the transactions that became durable together, so any durable one means it is done.
    this.snapshotDone = true;
    let incremental: IncrementalState | undefined;
    for (const [seq, state] of this.incrementalAt) {
      if (seq > tx.seq) break;
      incremental = state;
      this.incrementalAt.delete(seq);
    }
    const offset: SourceOffset = {
      lsn: tx.endLsn.toString(),
      // Debezium's lastCommitLsn: unset by a snapshot, else the last commit processed.
      lsn_commit: tx.seq === 0 ? (this.stored?.lsn_commit ?? null) : tx.endLsn.toString(),
      txId: tx.txId,
      snapshot_completed: this.snapshotDone,
      ...(incremental ? { incremental_snapshot: incremental } : {}),
    };
    this.committer.commit(tx.endLsn, offset);
  }

  private fail(err: Error): void {
    // Once the connections close, a chunk read they cut short is no failure (the offsets resume it).
    if (this.failed || this.closing) return;
    this.failed = explainQueryTimeout(err, this.source);
    this.onFailure();
    this.logger.error({ err: this.failed }, "connector runtime failed");
    this.observers.onError?.(this.failed);
  }

  async flush(): Promise<void> {
    if (this.failed) throw this.failed;
    await this.sink.flush();
  }

  stop(): Promise<void> {
    // A failure during a stop reaches onError, whose handler may stop again: that call waits for this
    // stop to close everything instead of returning at once (the CLI would exit half-way through it).
    if (this.stopping) return this.stopping.catch(() => undefined);
    this.stopping = this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    try {
      // A clean stop loses and duplicates nothing: the transaction being received is taken whole and none
      // after it (records taken after the flush would be lost with the open files, and delivered again).
      if (!this.failed) await Promise.race([this.stream.finish(), this.failure]);
      if (!this.failed) await this.sink.flush();
    } finally {
      // The last source offsets are stored and acknowledged before the replication connection closes.
      await this.committer.settled();
      this.closing = true;
      await this.stream.stop();
      await this.sink.close();
      await this.catalog.end().catch(() => undefined);
    }
    if (this.failed) throw this.failed;
  }

  stats(): RuntimeStats {
    const sink = this.sink.stats();
    const acknowledged = this.committer.acknowledgedLsn();
    return {
      ...this.counts,
      files: sink.files,
      recordsInFiles: sink.records,
      pendingRecords: this.tracker.pending(),
      acknowledgedLsn: acknowledged === null ? null : formatLsn(acknowledged),
    };
  }
}

/** Validates both configs (an unsupported key is an error naming it), then snapshots and streams. */
export async function startConnectorRuntime(options: ConnectorRuntimeOptions): Promise<ConnectorRuntime> {
  const logger = options.logger ?? pino({ level: "info" });
  const source = parseSourceConfig(options.source);
  const sink = parseSinkConfig(options.sink);
  if (sink.format.type === "parquet" && !source.valueSchemas) {
    throw new Error(
      `${source.name}: value.converter.schemas.enable=false gives schemaless records, which ParquetFormat cannot write`,
    );
  }
  const offsets = new OffsetFile<SourceOffset>(offsetFilePath(options.bucketRoot, "source", source.name));
  const runtime = new LocalConnectorRuntime(source, sink, offsets, await offsets.read(), logger, options);
  await runtime.start(options.bucketRoot);
  return runtime;
}
