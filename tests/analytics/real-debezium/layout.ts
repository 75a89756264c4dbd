/**
 * Lays Kafka records out as the Confluent S3 sink does, with the project's own sink writer
 * (connectors/local/sink.ts: object keys, flush.size rotation, Parquet with the Avro schema in the footer)
 * fed with the real records as the sink task receives them (JsonConverter's schema and value). The stack's
 * sink config (buildSinkConnector) decides the layout, here with a small flush.size so that rotation happens.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { buildSinkConnector } from "../../../connectors/config";
import { S3SinkEmulator } from "../../../connectors/local/sink";
import { parseSinkConfig } from "../../../connectors/local/sink-config";
import type { TopicRecord } from "../../../engines/kafka-records";
import { fromJsonConverter } from "./connect-json";

const BUCKET = "cdc-real-debezium";

export class SinkLayout {
  /** Kafka offset the next record of each topic gets. */
  private readonly next = new Map<string, number>();
  /** Kafka offset each record got at its first delivery (a re-delivered copy gets a later one). */
  private readonly first = new Map<TopicRecord, number>();

  private constructor(
    private readonly sink: S3SinkEmulator,
    /** The sink's topics dir: the SCD2 job's source root. */
    readonly topicsDir: string,
  ) {}

  static async open(bucketRoot: string, flushSize: number): Promise<SinkLayout> {
    const settings = parseSinkConfig(buildSinkConnector({ bucket: BUCKET, region: "us-east-1", flushSize }));
    const logger = pino({ level: "silent" });
    const sink = await S3SinkEmulator.open(settings, bucketRoot, { onDurable: () => undefined }, logger);
    return new SinkLayout(sink, join(bucketRoot, BUCKET, settings.topicsDir));
  }

  /**
   * Hands `records` to the sink in order, at the topic's next offsets. Delivering a record again is a
   * re-delivery: the copy lands at a new offset, as a source connector restarted from older offsets writes
   * its records to Kafka again.
   */
  deliver(topic: string, records: readonly TopicRecord[]): void {
    for (const record of records) {
      if (record.partition !== 0) throw new Error(`${topic}: record in partition ${record.partition}`);
      const converted = fromJsonConverter(record.value);
      if (converted === null) throw new Error(`${topic}: unexpected tombstone at offset ${record.offset}`);
      const offset = this.next.get(topic) ?? 0;
      this.sink.put({ topic, ...converted }, 0, Date.now());
      this.next.set(topic, offset + 1);
      if (!this.first.has(record)) this.first.set(record, offset);
    }
  }

  /** The Kafka position of a record's first delivery. */
  offsetOf(record: TopicRecord): number {
    const offset = this.first.get(record);
    if (offset === undefined) throw new Error(`record at offset ${record.offset} was never delivered`);
    return offset;
  }

  /** Commits the open files (as a scheduled rotation would) and waits until they are written. */
  async commit(): Promise<void> {
    await this.sink.flush();
  }

  async close(): Promise<void> {
    await this.sink.close();
  }

  /** The object keys under the topics dir for `topic`, sorted by start offset. */
  files(topic: string): string[] {
    const dir = join(this.topicsDir, topic, "partition=0");
    return readdirSync(dir)
      .sort()
      .map((name) => `${topic}/partition=0/${name}`);
  }
}

/** The start offset in a sink object key (`…+<partition>+<offset>.<ext>`). */
export const startOffset = (key: string): number => Number(/\+(\d+)\.[^+]*$/.exec(key)![1]);
