/**
 * Adding a table to a running capture, as `pulumi up` does it (docs/day-two.md): the table enters the
 * publication, the source connector is updated to the longer table.include.list, then NewTableSnapshots'
 * provider requests a snapshot of the new table alone. Real Debezium 3.6.1 (the config PUT on the worker) and
 * the local runtime (restarted on the new config), one after the other on the same database: the new table's
 * rows arrive as reads, the other table's changes stream on without a gap or a duplicate, and both give the
 * same records (run-dependent values by form).
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSinkConnector, PIPELINE_DEFAULTS, type ConnectorConfig } from "../../../connectors/config";
import { grantSql, sourceSetup } from "../../../connectors/database";
import { startConnectorRuntime, type UnwrappedRecord } from "../../../connectors/local";
import {
  newTableSnapshotsProvider as provider,
  type NewTableSnapshotsInputs,
  type NewTableSnapshotsOutputs,
} from "../../../connectors/signals/resource";
import { createProgress } from "../../../engines/progress";
import { ensureKafkaEngines } from "../../../engines/provision";
import { envelopes, type EnvelopeRecord, type Json } from "./connect-json";
import { startWorkloadDatabase, type WorkloadDatabase } from "./debezium-capture";
import { deleteConnector, startKafkaConnect, type KafkaConnect } from "./debezium-connect";
import { byForm } from "./record-forms";
import { readRecords, settled, topicEnd } from "./topic-reads";

const KEPT = "commerce.kept";
const ADDED = "commerce.added";
const topic = (table: string) => `add.${table}`;
const PUBLICATION = PIPELINE_DEFAULTS.publicationName;

type Payload = { [key: string]: Json };
const projection = (r: EnvelopeRecord) => {
  const p = r.value.payload as Payload;
  return [p.__op, p.id, p.n];
};

describe("adding a table: the local runtime against real Debezium", () => {
  let dir: string;
  let db: WorkloadDatabase | undefined;
  let kafka: KafkaConnect | undefined;
  const records: Record<"debezium" | "local", Record<string, EnvelopeRecord[]>> = { debezium: {}, local: {} };

  const config = (slot: string, tables: string[]): ConnectorConfig => {
    const { name, config } = db!.sourceConfig(
      { topicPrefix: "add", settings: { name: "cdc-source-add", snapshotMode: "no_data" } },
      slot,
    );
    return { name, config: { ...config, "table.include.list": tables.join(",") } };
  };
  const signalInputs = (tables: string[]): NewTableSnapshotsInputs => ({
    connection: {
      host: "127.0.0.1",
      port: db!.server.port,
      database: "postgres",
      user: "postgres",
      password: new URL(db!.server.connectionString).password,
      sslMode: "disable",
    },
    signalTable: PIPELINE_DEFAULTS.signalTable,
    tables,
  });
  /** The table back to the start, out of the publication, and a fresh slot. */
  const reset = async (slot: string) => {
    for (const sql of [
      `DELETE FROM ${KEPT}`,
      `INSERT INTO ${KEPT} SELECT i, 0 FROM generate_series(1, 3) i`,
      `DELETE FROM ${ADDED}`,
      `INSERT INTO ${ADDED} SELECT i, i FROM generate_series(1, 5) i`,
      `ALTER PUBLICATION ${PUBLICATION} DROP TABLE ${ADDED}`,
    ])
      await db!.admin.query(sql);
    await db!.createSlot(slot);
  };
  /** What pulumi up does, the connector's update given as `update`; the changes around it. */
  const addTable = async (update: () => Promise<void>) => {
    await db!.admin.query(`UPDATE ${KEPT} SET n = 1 WHERE id = 1`);
    await db!.admin.query(`ALTER PUBLICATION ${PUBLICATION} ADD TABLE ${ADDED}`);
    await update();
    const created = await provider.create(signalInputs([KEPT]));
    await provider.update!(created.id, created.outs as NewTableSnapshotsOutputs, signalInputs([KEPT, ADDED]));
    await db!.admin.query(`UPDATE ${KEPT} SET n = 2 WHERE id = 2`);
  };

  beforeAll(async () => {
    const engines = await ensureKafkaEngines(createProgress("debezium-new-table-test"));
    dir = mkdtempSync(join(tmpdir(), "cdc-new-table-"));
    chmodSync(dir, 0o755);
    db = await startWorkloadDatabase(dir);
    const role = sourceSetup().role.name;
    for (const table of [KEPT, ADDED]) {
      await db.admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY, n int NOT NULL)`);
      const [schema, name] = table.split(".") as [string, string];
      await db.admin.query(
        grantSql({ role, schema, objectType: "table", objects: [name], privileges: ["SELECT"] }),
      );
    }
    await db.admin.query(`ALTER PUBLICATION ${PUBLICATION} ADD TABLE ${KEPT}, ${ADDED}`);
    kafka = await startKafkaConnect(engines, join(dir, "kafka"));

    await reset("add_debezium");
    const url = `${kafka.worker.url}/connectors/cdc-source-add`;
    const put = (c: ConnectorConfig) =>
      fetch(`${url}/config`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(c.config),
      });
    await put(config("add_debezium", [KEPT]));
    await addTable(async () => {
      const grown = config("add_debezium", [KEPT, ADDED]);
      await put(grown);
      // As the stack's connector resource: until the task runs the new config, then a margin for the restart.
      await settled(
        async () => {
          const tasks = (await (await fetch(`${url}/tasks`)).json()) as { config: Record<string, string> }[];
          const status = (await (await fetch(`${url}/status`)).json()) as { tasks: { state: string }[] };
          const current = tasks[0]?.config["table.include.list"] === grown.config["table.include.list"];
          return current && status.tasks[0]?.state === "RUNNING" ? 1 : 0;
        },
        3_000,
        120_000,
      );
    });
    await settled(() => topicEnd(kafka!, topic(ADDED)), 8_000, 180_000);
    for (const table of [KEPT, ADDED]) records.debezium[table] = await readRecords(kafka, topic(table));
    await deleteConnector(kafka.worker.url, "cdc-source-add", db.admin, "add_debezium");

    await reset("add_local");
    const seen: UnwrappedRecord[] = [];
    const start = (tables: string[]) =>
      startConnectorRuntime({
        source: config("add_local", tables),
        sink: buildSinkConnector({
          bucket: "cdc-local",
          region: "us-east-1",
          topicPrefix: "add",
          tables: [KEPT, ADDED],
        }),
        bucketRoot: join(dir, "bucket"),
        logger: pino({ level: "silent" }),
        onRecord: (record) => seen.push(record),
      });
    let runtime = await start([KEPT]);
    await addTable(async () => {
      await runtime.stop();
      runtime = await start([KEPT, ADDED]);
    });
    try {
      await settled(() => seen.length, 5_000, 60_000);
    } finally {
      await runtime.stop();
    }
    for (const table of [KEPT, ADDED])
      records.local[table] = envelopes(seen.filter((r) => r.topic === topic(table)));
  }, 900_000);

  afterAll(async () => {
    await kafka?.stop();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("Debezium: the new table's rows as reads, the other table's changes before and after, once each", () => {
    expect(records.debezium[ADDED]!.map(projection)).toEqual([1, 2, 3, 4, 5].map((id) => ["r", id, id]));
    expect(records.debezium[KEPT]!.map(projection)).toEqual([
      ["u", 1, 1],
      ["u", 2, 2],
    ]);
  });

  it("the runtime gives the same records", () => {
    for (const table of [KEPT, ADDED])
      expect(records.local[table]!.map(byForm)).toEqual(records.debezium[table]!.map(byForm));
  });
});
