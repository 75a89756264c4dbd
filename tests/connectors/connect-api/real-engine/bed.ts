/**
 * The real test bed for KafkaConnector: an embedded PostgreSQL with the project's source setup (tables, CDC
 * role, publication, slot), a one-node Kafka, a Kafka Connect worker whose config providers resolve the
 * database password from its own environment, and the Pulumi engine (file backend). Everything lives in one
 * temporary folder, removed at the end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  type KafkaEngines,
  type PulumiEngine,
} from "../../../../engines";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../../../local/postgres";

/** The CDC role's password: only the worker's environment holds it (`${env:CDC_DB_PASSWORD}`). */
export const CDC_PASSWORD = "s3cret-only-the-worker-knows";
export const PASSWORD_ENV = "CDC_DB_PASSWORD";
export const CONNECT_GROUP = "cdc-connect";

export interface TestBed {
  root: string;
  engines: KafkaEngines;
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
    engines,
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
