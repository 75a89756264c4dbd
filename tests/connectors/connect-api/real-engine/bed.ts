/**
 * The real test bed for KafkaConnector: an embedded PostgreSQL with the project's source setup (tables, CDC
 * role, publication, slot), a one-node Kafka that creates no topic on its own (as the stack configures MSK)
 * with the topics of the stack's plan (infra/kafka-topics.ts) created before any worker starts, Kafka Connect
 * workers whose config providers resolve the database password from their own environment, and the Pulumi
 * engine (file backend). Everything lives in one temporary folder, removed at the end.
 *
 * The stack declares those topics through @pulumi/kafka, whose provider plugin cannot be built from the
 * registries this machine reaches (the Go module proxy refuses github.com/pulumi/pulumi-kafka/provider/v3 and
 * the Terraform provider it wraps), so here the plan is applied with a Kafka admin client instead.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { applySourceSetup } from "../../../../connectors/database";
import {
  createProgress,
  ensureKafkaEngines,
  startConnectWorker,
  startKafkaBroker,
  startPulumiEngine,
  type ConnectWorker,
  type KafkaBroker,
  type PulumiEngine,
} from "../../../../engines";
import { planTopics } from "../../../../infra/kafka-topics";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../../../local/postgres";

/** The CDC role's password: only the worker's environment holds it (`${env:CDC_DB_PASSWORD}`). */
export const CDC_PASSWORD = "s3cret-only-the-worker-knows";
export const PASSWORD_ENV = "CDC_DB_PASSWORD";
export const CONNECT_GROUP = "cdc-connect";

export interface TestBed {
  root: string;
  postgres: EmbeddedPostgres;
  db: pg.Client;
  broker: KafkaBroker;
  pulumi: PulumiEngine;
  workers: ConnectWorker[];
  /** Starts one more worker of the Connect group (it joins the cluster, which rebalances). */
  addWorker(): Promise<ConnectWorker>;
  close(): Promise<void>;
}

export async function startTestBed(): Promise<TestBed> {
  const root = mkdtempSync(join(tmpdir(), "cdc-real-engine-"));
  // PostgreSQL runs as the OS user `postgres` when the tests run as root: it must reach its data dir.
  chmodSync(root, 0o755);
  const progress = createProgress("real-engine-test");
  const engines = await ensureKafkaEngines(progress);
  const [postgres, broker, pulumi] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(root, "pgdata") }),
    // As the stack configures MSK: only the stack creates topics.
    startKafkaBroker(engines, join(root, "kafka"), { "auto.create.topics.enable": "false" }),
    startPulumiEngine(join(root, "pulumi"), progress),
  ]);
  const db = new pg.Client(postgres.connectionString);
  await db.connect();
  await applySourceSetup(db, { rolePassword: CDC_PASSWORD });
  await createPlannedTopics(broker.bootstrapServers);
  const workers: ConnectWorker[] = [];
  const addWorker = async () => {
    const worker = await startConnectWorker(engines, join(root, `connect-${workers.length + 1}`), {
      bootstrapServers: broker.bootstrapServers,
      groupId: CONNECT_GROUP,
      env: { [PASSWORD_ENV]: CDC_PASSWORD },
    });
    workers.push(worker);
    return worker;
  };
  return {
    root,
    postgres,
    db,
    broker,
    pulumi,
    workers,
    addWorker,
    async close() {
      await db.end().catch(() => undefined);
      for (const worker of workers) await worker.stop();
      await broker.stop();
      await postgres.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The stack's topic plan, one partition per change topic and replication factor 1 on the one broker. */
async function createPlannedTopics(bootstrapServers: string): Promise<void> {
  const plan = planTopics({ connectGroupId: CONNECT_GROUP, partitions: 1, retentionHours: 24 });
  const admin = new Kafka({ brokers: [bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: plan.topics.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: 1,
        configEntries: Object.entries(topic.config).map(([name, value]) => ({ name, value })),
      })),
    });
    if (!created) throw new Error("the planned topics existed already");
  } finally {
    await admin.disconnect();
  }
}
