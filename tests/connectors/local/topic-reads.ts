/** Reading what the test bed's Debezium wrote when the number of records is not known in advance. */
import { Kafka, logLevel } from "kafkajs";
import { readTopic } from "../../../engines/kafka-records";
import { parseExactJson, type EnvelopeRecord } from "./connect-json";
import type { KafkaConnect } from "./debezium-connect";

/** Waits until `count()` has not changed for `quietMs` (and is above 0), at most `timeoutMs`. */
export async function settled(count: () => Promise<number> | number, quietMs: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const now = await count();
    if (now !== last) [last, since] = [now, Date.now()];
    else if (now > 0 && Date.now() - since >= quietMs) return now;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no settled count within ${timeoutMs / 1000} s (last ${last})`);
}

export async function topicEnd(kafka: KafkaConnect, topic: string): Promise<number> {
  const admin = new Kafka({ brokers: [kafka.broker.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0;
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

export async function listTopics(kafka: KafkaConnect): Promise<string[]> {
  const admin = new Kafka({ brokers: [kafka.broker.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).sort();
  } finally {
    await admin.disconnect();
  }
}

/** Every record of `topic` (the topic's end offset now), as JsonConverter JSON. */
export async function readRecords(kafka: KafkaConnect, topic: string): Promise<EnvelopeRecord[]> {
  const count = await topicEnd(kafka, topic);
  if (count === 0) return [];
  return (await readTopic(kafka.broker.bootstrapServers, topic, { count })).map((r) => ({
    topic,
    offset: r.offset,
    value: r.value as EnvelopeRecord["value"],
  }));
}

/** As readRecords, with integers beyond ±2^53 read exactly (as bigints). */
export async function readExactRecords(kafka: KafkaConnect, topic: string): Promise<EnvelopeRecord[]> {
  const count = await topicEnd(kafka, topic);
  if (count === 0) return [];
  const parse = (bytes: Buffer | null) => (bytes === null ? null : parseExactJson(bytes.toString("utf8")));
  return (await readTopic(kafka.broker.bootstrapServers, topic, { count, parse })).map((r) => ({
    topic,
    offset: r.offset,
    value: r.value as EnvelopeRecord["value"],
  }));
}
