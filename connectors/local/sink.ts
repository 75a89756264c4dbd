/**
 * The Confluent S3 sink, one partition per topic, writing into a local bucket directory:
 * `<bucket-root>/<bucket>/<topics.dir>/<topic>/partition=0/<topic>+0+<startOffset>.<ext>`.
 * A file is committed after `flush.size` records, on a schema change, or on scheduled rotation;
 * it is written durably, then the committed offsets are stored, then the source is told which
 * records are durable (so it can acknowledge the slot).
 */
import { join } from "node:path";
import type { Logger } from "pino";
import type { ConnectSchema, ConnectValue } from "./connect-schema";
import { OffsetFile, offsetFilePath, writeDurably } from "./durable";
import { writeJsonFile } from "./json-writer";
import { ParquetWriter, stageRows, type StagedRows } from "./parquet-writer";
import { fileExtension, type SinkSettings } from "./sink-config";
import type { UnwrappedRecord } from "./unwrap";

interface OpenFile {
  startOffset: number;
  schema: ConnectSchema;
  schemaKey: string;
  rows: (Record<string, ConnectValue> | null)[];
  txSeqs: number[];
  /** Wall-clock time at which scheduled rotation commits this file. */
  deadline: number;
}

const DAY_MS = 86_400_000;

/**
 * When scheduled rotation next commits, as the S3 sink computes it with `timezone=UTC`
 * (DateTimeUtils.getNextTimeAdjustedByDay): the next multiple of `intervalMs` after `now`,
 * counted from UTC midnight, and the next midnight at the latest.
 */
export function nextScheduledRotation(now: number, intervalMs: number): number {
  const startOfDay = Math.floor(now / DAY_MS) * DAY_MS;
  const offset = (Math.floor((now - startOfDay) / intervalMs) + 1) * intervalMs;
  return startOfDay + Math.min(offset, DAY_MS);
}

interface TopicPartition {
  topic: string;
  /** Kafka offset the next record gets. */
  nextOffset: number;
  open: OpenFile | undefined;
}

export interface SinkStats {
  files: number;
  records: number;
}

/** A file the sink has made durable: its object key under the bucket, its topic and its records. */
export interface DurableFile {
  key: string;
  topic: string;
  records: number;
}

const schemaKeys = new WeakMap<ConnectSchema, string>();
function schemaKey(schema: ConnectSchema): string {
  let key = schemaKeys.get(schema);
  if (key === undefined) {
    key = JSON.stringify(schema, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    schemaKeys.set(schema, key);
  }
  return key;
}

/** What the sink tells the runtime it runs in. */
export interface SinkEvents {
  /**
   * Records of these transactions are done: in durable files with the sink offsets past them stored, or
   * skipped (a null value the sink ignores).
   */
  onDurable: (txSeqs: number[]) => void;
  /**
   * The sink task failed (a file or the offsets could not be written, or the onFileDurable observer
   * threw): called once, when it happens, not at the next record, which may never come.
   */
  onFailure?: (err: Error) => void;
  /** Sees each file once it is durable (ConnectorRuntimeOptions.onFileDurable). */
  onFileDurable?: (file: DurableFile) => void;
}

export class S3SinkEmulator {
  private readonly partitions = new Map<string, TopicPartition>();
  private queue: Promise<void> = Promise.resolve();
  /** Files handed to the write queue and not yet durable. */
  private queued = 0;
  private failure: Error | undefined;
  private readonly stats_: SinkStats = { files: 0, records: 0 };

  private constructor(
    private readonly settings: SinkSettings,
    private readonly bucketRoot: string,
    private readonly offsets: OffsetFile<Record<string, number>>,
    private readonly committed: Record<string, number>,
    private readonly parquet: ParquetWriter | undefined,
    private readonly events: SinkEvents,
    private readonly logger: Logger,
  ) {}

  static async open(
    settings: SinkSettings,
    bucketRoot: string,
    events: SinkEvents,
    logger: Logger,
  ): Promise<S3SinkEmulator> {
    const offsets = new OffsetFile<Record<string, number>>(offsetFilePath(bucketRoot, "sink", settings.name));
    const committed = (await offsets.read()) ?? {};
    const parquet = settings.format.type === "parquet" ? await ParquetWriter.open() : undefined;
    return new S3SinkEmulator(settings, bucketRoot, offsets, committed, parquet, events, logger);
  }

  /** Files waiting to be written: the source pauses while this is high (backpressure). */
  queuedFiles(): number {
    return this.queued;
  }

  accepts(topic: string): boolean {
    return this.settings.topics(topic);
  }

  stats(): SinkStats {
    return { ...this.stats_ };
  }

  /** Throws the first write failure (the sink task is dead after it). */
  check(): void {
    if (this.failure) throw this.failure;
  }

  private partition(topic: string): TopicPartition {
    let tp = this.partitions.get(topic);
    if (!tp) {
      tp = { topic, nextOffset: this.committed[topic] ?? 0, open: undefined };
      this.partitions.set(topic, tp);
    }
    return tp;
  }

  /**
   * Takes one record (synchronously) of the source transaction `txSeq` (commit order); commits files as
   * `flush.size` or a schema change demands.
   */
  put(record: UnwrappedRecord, txSeq: number, now: number): void {
    this.check();
    const tp = this.partition(record.topic);
    if (record.value === null) {
      if (this.settings.behaviorOnNullValues === "fail") {
        this.failure = new Error(
          `sink ${this.settings.name}: null value (tombstone) at ${record.topic} offset ${tp.nextOffset} and behavior.on.null.values=fail: the sink task stops`,
        );
        throw this.failure;
      }
      if (this.settings.behaviorOnNullValues === "ignore" || this.settings.format.type === "parquet") {
        tp.nextOffset += 1;
        this.events.onDurable([txSeq]);
        return;
      }
    }
    const key = schemaKey(record.schema);
    if (tp.open && tp.open.schemaKey !== key) this.commit(tp);
    if (!tp.open) {
      const interval = this.settings.rotateScheduleIntervalMs;
      tp.open = {
        startOffset: tp.nextOffset,
        schema: record.schema,
        schemaKey: key,
        rows: [],
        txSeqs: [],
        deadline: interval > 0 ? nextScheduledRotation(now, interval) : Infinity,
      };
    }
    tp.open.rows.push(record.value);
    tp.open.txSeqs.push(txSeq);
    tp.nextOffset += 1;
    if (tp.open.rows.length >= this.settings.flushSize) this.commit(tp);
  }

  /** Scheduled (wall-clock) rotation: commits files whose deadline has passed. */
  tick(now: number): void {
    for (const tp of this.partitions.values()) if (tp.open && now >= tp.open.deadline) this.commit(tp);
  }

  /** Commits every open file and waits until all are durable. */
  async flush(): Promise<void> {
    for (const tp of this.partitions.values()) if (tp.open) this.commit(tp);
    await this.queue;
    await this.offsets.settled();
    this.check();
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.offsets.settled();
    await this.parquet?.close();
  }

  private objectKey(topic: string, startOffset: number): string {
    const { topicsDir, directoryDelim: d, fileDelim: f, offsetZeroPadWidth } = this.settings;
    const name = `${topic}${f}0${f}${String(startOffset).padStart(offsetZeroPadWidth, "0")}${fileExtension(this.settings.format)}`;
    return [topicsDir, topic, "partition=0", name].join(d);
  }

  private commit(tp: TopicPartition): void {
    const file = tp.open!;
    tp.open = undefined;
    const endOffset = tp.nextOffset;
    const records = file.rows.length;
    // Parquet rows are staged now, while they are young: the queue then holds one string per file.
    let staged = this.parquet
      ? stageRows(file.schema, file.rows as Record<string, ConnectValue>[])
      : undefined;
    if (staged) file.rows = [];
    const key = this.objectKey(tp.topic, file.startOffset);
    const path = join(this.bucketRoot, this.settings.bucket, key);
    this.queued += 1;
    // Files are written concurrently (a rewrite after a crash overwrites the same key), but
    // committed in order: offsets and acknowledgements never run ahead of an unwritten file.
    const written = this.failure
      ? Promise.resolve()
      : writeDurably(
          path,
          (temp) => this.writeFile(temp, file, staged),
          join(this.bucketRoot, ".connect-tmp"),
        );
    // The closures made here share this scope: let go of the staged text once written, not once durable.
    void written.catch(() => undefined).finally(() => (staged = undefined));
    this.queue = this.queue.then(async () => {
      if (this.failure) return;
      try {
        await written;
      } catch (err) {
        this.fail(`writing ${path} failed`, err as Error);
        return;
      }
      this.committed[tp.topic] = endOffset;
      this.stats_.files += 1;
      this.stats_.records += records;
      this.logger.debug({ file: path, records }, "file committed");
      try {
        this.events.onFileDurable?.({ key, topic: tp.topic, records });
      } catch (err) {
        // Thrown here it would break the chain every later file commits through.
        this.fail("the onFileDurable observer failed", err as Error);
        return;
      }
      this.queued -= 1;
      // The next file need not wait for this offset write: writes are serialized and coalesced, so
      // one fsync can cover several files. The records are acknowledged only once it is durable.
      this.offsets.write(this.committed).then(
        () => this.events.onDurable(file.txSeqs),
        (err: Error) => this.fail("storing the sink offsets failed", err),
      );
    });
  }

  private fail(what: string, err: Error): void {
    if (this.failure) return;
    this.failure = new Error(`sink ${this.settings.name}: ${what}: ${err.message}`);
    this.logger.error({ err: this.failure }, "sink task failed");
    this.events.onFailure?.(this.failure);
  }

  private async writeFile(temp: string, file: OpenFile, staged: StagedRows | undefined): Promise<void> {
    const format = this.settings.format;
    if (format.type === "json") {
      await writeJsonFile(temp, file.schema, file.rows, format.decimalFormat, format.gzip);
      return;
    }
    await this.parquet!.write(temp, file.schema, staged!, format.codec);
  }
}
