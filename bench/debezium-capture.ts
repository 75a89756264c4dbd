/**
 * The capture benchmark's real-Debezium phase: Debezium 3.6.1 on a Kafka Connect 4 worker, with a one-node
 * Kafka, both started here (engines/), streaming a slot that already holds the workload. Measured from the
 * connector's creation to the last change record in Kafka (JsonConverter with schemas, as the stack's workers
 * write them): what users compare the local runtime with.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { createProgress, ensureKafkaEngines, startConnectWorker, startKafkaBroker } from "../engines";

export interface DebeziumCaptureOptions {
  /** Folder for the broker's and the worker's data and logs. */
  dir: string;
  /** The Debezium source config (with its `name`), the same the local runtime runs. */
  sourceConfig: Record<string, string>;
  /** The captured table, `schema.table`. */
  table: string;
  /** Change records the slot holds: the phase ends when the topic has this many. */
  total: number;
  /** Called while waiting with the records in Kafka so far. */
  onProgress?: (records: number) => void;
}

export interface DebeziumCaptureResult {
  seconds: number;
  /** From the connector's creation to its first record in Kafka (startup, validation, slot attach). */
  firstRecordSeconds: number;
}

async function recordsIn(admin: ReturnType<Kafka["admin"]>, topic: string): Promise<number> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) return 0;
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

export async function measureDebeziumCapture(
  options: DebeziumCaptureOptions,
): Promise<DebeziumCaptureResult> {
  const progress = createProgress("bench-capture");
  const engines = await ensureKafkaEngines(progress);
  mkdirSync(options.dir, { recursive: true });
  const broker = await startKafkaBroker(engines, join(options.dir, "kafka"));
  try {
    const worker = await startConnectWorker(engines, join(options.dir, "connect"), {
      bootstrapServers: broker.bootstrapServers,
      groupId: "bench-connect",
    });
    const admin = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const topic = `cdc.${options.table}`;
      const started = performance.now();
      const { name, ...config } = options.sourceConfig;
      const put = await fetch(`${worker.url}/connectors/${name}/config`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(config),
      });
      if (put.status !== 201)
        throw new Error(`creating the Debezium connector: HTTP ${put.status} ${await put.text()}`);
      let firstRecordSeconds: number | undefined;
      const deadline = Date.now() + 900_000;
      for (;;) {
        const records = await recordsIn(admin, topic);
        if (records > 0 && firstRecordSeconds === undefined)
          firstRecordSeconds = (performance.now() - started) / 1000;
        options.onProgress?.(records);
        if (records >= options.total) break;
        if (Date.now() > deadline)
          throw new Error(`Debezium: ${records} of ${options.total} records after 900 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return { seconds: (performance.now() - started) / 1000, firstRecordSeconds: firstRecordSeconds! };
    } finally {
      await admin.disconnect();
      await worker.stop();
    }
  } finally {
    await broker.stop();
  }
}
