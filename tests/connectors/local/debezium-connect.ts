/**
 * Real Debezium for the workload captures (debezium-capture.ts): a Kafka broker and a Connect worker (config
 * providers env and file), the source connector created on it, its topics read back with readTopic.
 */
import { join } from "node:path";
import { Kafka, logLevel, type Admin } from "kafkajs";
import type pg from "pg";
import type { ConnectorConfig } from "../../../connectors/config";
import {
  startConnectWorker,
  startKafkaBroker,
  type ConnectWorker,
  type KafkaBroker,
} from "../../../engines/kafka-cluster";
import { readTopic } from "../../../engines/kafka-records";
import type { KafkaEngines } from "../../../engines/provision";
import type { EnvelopeRecord } from "./connect-json";
import { expectedRecords, topicsOf, type Capture } from "./debezium-capture";

/** A Kafka admin client for the duration of `use`. */
async function withAdmin<T>(bootstrapServers: string, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({ brokers: [bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Offsets past the last record of each topic, to check that no record came beyond the expected ones. */
const endOffsets = (bootstrapServers: string, topics: string[]): Promise<Record<string, number>> =>
  withAdmin(bootstrapServers, async (admin) => {
    const ends: Record<string, number> = {};
    for (const topic of topics)
      ends[topic] = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    return ends;
  });

/** Waits until Debezium has created every topic (a consumer cannot subscribe to a missing one). */
const waitForTopics = (bootstrapServers: string, topics: string[], timeoutMs: number): Promise<boolean> =>
  withAdmin(bootstrapServers, async (admin) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const existing = await admin.listTopics();
      if (topics.every((t) => existing.includes(t))) return true;
      await new Promise((r) => setTimeout(r, 500));
    }
    return false;
  });

export interface KafkaConnect {
  broker: KafkaBroker;
  worker: ConnectWorker;
  stop(): Promise<void>;
}

/**
 * A broker and a Connect worker (config providers env and file) under `dir`; `workerEnv` is added to the
 * worker JVM's environment.
 */
export async function startKafkaConnect(
  engines: KafkaEngines,
  dir: string,
  workerEnv?: Record<string, string>,
): Promise<KafkaConnect> {
  const broker = await startKafkaBroker(engines, join(dir, "broker"));
  try {
    const worker = await startConnectWorker(engines, join(dir, "worker"), {
      bootstrapServers: broker.bootstrapServers,
      groupId: "cdc-parity",
      env: workerEnv,
    });
    return {
      broker,
      worker,
      async stop() {
        await worker.stop();
        await broker.stop();
      },
    };
  } catch (err) {
    await broker.stop();
    throw err;
  }
}

async function connectorState(url: string, name: string): Promise<string> {
  const response = await fetch(`${url}/connectors/${name}/status`);
  if (response.status !== 200) return `HTTP ${response.status}`;
  const status = (await response.json()) as {
    connector: { state: string };
    tasks: { state: string; trace?: string }[];
  };
  const task = status.tasks[0];
  return task ? `${task.state}${task.trace ? `: ${task.trace.split("\n")[0]}` : ""}` : "no task";
}

/** Creates connector `name` on the worker with `config`; throws with Connect's answer unless it is created. */
export async function createConnector(workerUrl: string, name: string, config: Record<string, string>) {
  const put = await fetch(`${workerUrl}/connectors/${name}/config`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(config),
  });
  if (put.status !== 201) throw new Error(`creating ${name}: HTTP ${put.status} ${await put.text()}`);
}

/** Real Debezium: the source connector created on the worker with `config`, its topics read back. */
export async function startDebeziumCapture(kafka: KafkaConnect, config: ConnectorConfig): Promise<Capture> {
  const { worker, broker } = kafka;
  const topics = topicsOf(config);
  const total = (topic: string) => expectedRecords(topic).total;
  await createConnector(worker.url, config.name, config.config);
  const failure = async (what: string) => {
    const state = await connectorState(worker.url, config.name);
    return `${what}; task ${state}; worker log ${worker.logFile}`;
  };
  const read = async (topic: string, count: number) => {
    try {
      return await readTopic(broker.bootstrapServers, topic, { count, timeoutMs: 120_000 });
    } catch (err) {
      throw new Error(await failure((err as Error).message), { cause: err });
    }
  };
  return {
    async snapshotTaken() {
      if (!(await waitForTopics(broker.bootstrapServers, topics, 180_000)))
        throw new Error(await failure(`Debezium created no topics ${topics.join(", ")} in 180 s`));
      for (const topic of topics) await read(topic, expectedRecords(topic).snapshot);
    },
    async records() {
      const records: EnvelopeRecord[] = [];
      for (const topic of topics) {
        for (const r of await read(topic, total(topic)))
          records.push({ topic, offset: r.offset, value: r.value as EnvelopeRecord["value"] });
      }
      const ends = await endOffsets(broker.bootstrapServers, topics);
      for (const topic of topics) {
        if (ends[topic] !== total(topic))
          throw new Error(
            `${topic}: Debezium wrote ${ends[topic]} records, the workload expects ${total(topic)}`,
          );
      }
      return records;
    },
    stop: async () => void (await fetch(`${worker.url}/connectors/${config.name}`, { method: "DELETE" })),
  };
}

/**
 * Deletes a connector and waits until its task has let go of `slot`: Connect answers the DELETE before
 * the task stops, and until its walsender is gone the task still acts on requests in a signalling table
 * it shares with whatever runs next.
 */
export async function deleteConnector(workerUrl: string, name: string, admin: pg.Client, slot: string) {
  await fetch(`${workerUrl}/connectors/${name}`, { method: "DELETE" });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await admin.query<{ active: boolean }>(
      "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
    if (rows[0]?.active !== true) return;
    if (Date.now() > deadline) throw new Error(`slot ${slot} still active 60 s after deleting ${name}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
