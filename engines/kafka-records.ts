/**
 * Reads what connectors wrote to a topic of the test broker: every record from the beginning, keys and values
 * parsed as the JSON the worker's JsonConverter wrote (`{ schema, payload }` with schemas enabled), null for a
 * tombstone. Waits until `count` records arrived; fails naming the topic and how many came otherwise.
 */
import { Kafka, logLevel } from "kafkajs";
import { randomUUID } from "node:crypto";

export interface TopicRecord {
  partition: number;
  offset: number;
  key: unknown;
  value: unknown;
}

function parse(bytes: Buffer | null): unknown {
  return bytes === null ? null : JSON.parse(bytes.toString("utf8"));
}

export async function readTopic(
  bootstrapServers: string,
  topic: string,
  /** `parse`: how a key or value's bytes are read (default: JSON.parse of the UTF-8 text, null for none). */
  options: { count: number; timeoutMs?: number; parse?: (bytes: Buffer | null) => unknown },
): Promise<TopicRecord[]> {
  const kafka = new Kafka({ clientId: "cdc-tests", brokers: [bootstrapServers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `cdc-tests-${randomUUID()}` });
  const records: TopicRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 120_000;
      const timer = setTimeout(
        () =>
          reject(
            new Error(`${topic}: ${records.length} of ${options.count} records after ${timeoutMs / 1000} s`),
          ),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            records.push({
              partition,
              offset: Number(message.offset),
              key: (options.parse ?? parse)(message.key),
              value: (options.parse ?? parse)(message.value),
            });
            if (records.length >= options.count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}
