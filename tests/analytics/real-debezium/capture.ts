/**
 * The real capture path, as the stack assembles it: an embedded PostgreSQL (commit timestamps tracked) with
 * the project's source setup, a one-node Kafka, a Kafka Connect worker, and the project's Debezium source
 * connector config deployed through the Connect REST API. The database password reaches the worker only
 * through a `${file:…}` placeholder that its FileConfigProvider resolves. Everything lives in `root`.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { buildSourceConnector, PIPELINE_DEFAULTS } from "../../../connectors/config";
import { createConnectClient, DEFAULT_RETRY_POLICY, waitForState } from "../../../connectors/connect-api";
import { applySourceSetup } from "../../../connectors/database";
import { startConnectWorker, startKafkaBroker } from "../../../engines/kafka-cluster";
import type { ConnectWorker, KafkaBroker } from "../../../engines/kafka-cluster";
import { readTopic } from "../../../engines/kafka-records";
import type { TopicRecord } from "../../../engines/kafka-records";
import { createProgress } from "../../../engines/progress";
import { ensureKafkaEngines } from "../../../engines/provision";
import { startEmbeddedPostgres } from "../../../local/postgres";
import type { EmbeddedPostgres } from "../../../local/postgres";

export interface Capture {
  /** A superuser session on the source database. */
  admin: pg.Client;
  connectionString: string;
  /** Deploys the source connector and waits until it and its task run. */
  deploy(): Promise<void>;
  /** Every record of a topic, once `count` are there; fails if the topic then holds more. */
  records(topic: string, count: number): Promise<TopicRecord[]>;
  stop(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 180_000;

/** How many records `topic` holds (its end offset), once it exists: Kafka creates a connector's topics on first write. */
async function recordCount(kafka: Kafka, topic: string, timeoutMs: number): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (!(await admin.listTopics()).includes(topic)) {
      if (Date.now() > deadline) throw new Error(`topic ${topic} not created after ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

export async function startCapture(root: string): Promise<Capture> {
  const engines = await ensureKafkaEngines(createProgress("real-debezium-test"));
  let postgres: EmbeddedPostgres | undefined;
  let broker: KafkaBroker | undefined;
  let worker: ConnectWorker | undefined;
  let admin: pg.Client | undefined;
  const stop = async () => {
    await admin?.end().catch(() => undefined);
    await worker?.stop();
    await broker?.stop();
    await postgres?.stop();
  };
  try {
    // Both start at once; whichever came up is stopped if the other failed.
    const [serverStart, brokerStart] = await Promise.allSettled([
      // Commit timestamps are the ground truth for effective_from (pg_xact_commit_timestamp).
      startEmbeddedPostgres({ dataDir: join(root, "pgdata"), settings: { track_commit_timestamp: "on" } }),
      startKafkaBroker(engines, join(root, "kafka")),
    ]);
    if (serverStart.status === "fulfilled") postgres = serverStart.value;
    if (brokerStart.status === "fulfilled") broker = brokerStart.value;
    if (serverStart.status === "rejected") throw serverStart.reason;
    if (brokerStart.status === "rejected") throw brokerStart.reason;
    const server = serverStart.value;
    const kafkaBroker = brokerStart.value;
    admin = new pg.Client(server.connectionString);
    await admin.connect();
    const password = randomBytes(16).toString("hex");
    await applySourceSetup(admin, { rolePassword: password });
    const secrets = join(root, "secrets");
    mkdirSync(secrets, { mode: 0o700 });
    const passwordFile = join(secrets, "database.properties");
    writeFileSync(passwordFile, `password=${password}\n`, { mode: 0o600 });
    worker = await startConnectWorker(engines, join(root, "connect"), {
      bootstrapServers: kafkaBroker.bootstrapServers,
      groupId: "cdc-connect",
    });
    const source = buildSourceConnector({
      database: {
        hostname: "127.0.0.1",
        port: server.port,
        dbname: "postgres",
        password: `\${file:${passwordFile}:password}`,
        sslMode: "disable",
      },
    });
    const client = createConnectClient({
      connectUrl: worker.url,
      connector: source.name,
      requestTimeoutMs: 30_000,
      retry: DEFAULT_RETRY_POLICY,
    });
    const kafka = new Kafka({
      clientId: "real-debezium-test",
      brokers: [kafkaBroker.bootstrapServers],
      logLevel: logLevel.NOTHING,
    });
    return {
      admin,
      connectionString: server.connectionString,
      async deploy() {
        await client.putConfig(source.config);
        await waitForState(client, source.name, "RUNNING", {
          timeoutMs: CONNECT_TIMEOUT_MS,
          pollIntervalMs: 500,
        });
      },
      async records(topic, count) {
        await recordCount(kafka, topic, CONNECT_TIMEOUT_MS);
        const records = await readTopic(kafkaBroker.bootstrapServers, topic, {
          count,
          timeoutMs: CONNECT_TIMEOUT_MS,
        });
        const total = await recordCount(kafka, topic, 0);
        if (total !== count) throw new Error(`${topic} holds ${total} records, ${count} expected`);
        return records;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export const TOPIC_PREFIX = PIPELINE_DEFAULTS.topicPrefix;
