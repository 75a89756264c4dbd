/**
 * A lost slot under real Debezium 3.6.1, recovered the documented way (`cdc-resnapshot --recover-slot
 * --connect-url`: the slot back, the offsets moved, an incremental snapshot), then the SCD2 job with
 * `--reconcile` over the window the command reports. Updates, deletes and inserts happen in the gap.
 * Against PostgreSQL's own account of every commit (a test_decoding slot): every key's current version
 * is PostgreSQL's row, keys deleted in the gap are closed and flagged, keys the gap left alone have no
 * new version; what the gap hid is one version at the read, no more.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PIPELINE_DEFAULTS } from "../../connectors/config";
import { grantSql, sourceSetup } from "../../connectors/database";
import { createProgress } from "../../engines/progress";
import { ensureKafkaEngines } from "../../engines/provision";
import { readTopic } from "../../engines/kafka-records";
import { parseReconcile } from "../../analytics/src/scd2/reconcile";
import { startWorkloadDatabase, type WorkloadDatabase } from "../connectors/local/debezium-capture";
import { startKafkaConnect, type KafkaConnect } from "../connectors/local/debezium-connect";
import { settled, topicEnd } from "../connectors/local/topic-reads";
import { runResnapshot, type CliResult } from "../connectors/signals/run-cli";
import { run } from "./helpers/fixtures";
import type { ItemsCommit, ItemVersion } from "./helpers/items-truth";
import { expectedItems, itemsHistory, itemsOracle, readsOf } from "./helpers/items-truth";
import { SinkLayout } from "./real-debezium/layout";

const TABLE = "commerce.gap";
const PREFIX = "gapr";
const TOPIC = `${PREFIX}.${TABLE}`;
const SLOT = "gapr_debezium";

describe("SCD2 after a lost slot under real Debezium, recovered and reconciled", () => {
  let dir: string;
  let db: WorkloadDatabase | undefined;
  let kafka: KafkaConnect | undefined;
  let recovery: CliResult;
  let commits: { before: ItemsCommit[]; after: ItemsCommit[] };
  let files: string[];
  let reconciled: { history: ItemVersion[]; inferred: number | undefined };
  let rows: { id: number; n: number }[];

  beforeAll(async () => {
    const engines = await ensureKafkaEngines(createProgress("scd2-real-debezium-lost-slot"));
    dir = mkdtempSync(join(tmpdir(), "scd2-lost-slot-dbz-"));
    chmodSync(dir, 0o755);
    db = await startWorkloadDatabase(dir);
    await db.admin.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, n int NOT NULL)`);
    await db.admin.query(`INSERT INTO ${TABLE} SELECT i, i FROM generate_series(1, 8) i`);
    const role = sourceSetup().role.name;
    await db.admin.query(
      grantSql({ role, schema: "commerce", objectType: "table", objects: ["gap"], privileges: ["SELECT"] }),
    );
    await db.admin.query(`ALTER PUBLICATION ${PIPELINE_DEFAULTS.publicationName} ADD TABLE ${TABLE}`);
    const truth = await itemsOracle(db.admin, "gapr_truth", TABLE);
    await db.createSlot(SLOT);
    kafka = await startKafkaConnect(engines, join(dir, "kafka"));
    const { name, config } = db.sourceConfig(
      { topicPrefix: PREFIX, settings: { name: "cdc-source-gapr" } },
      SLOT,
    );
    const url = `${kafka.worker.url}/connectors/${name}`;
    const state = async () =>
      ((await (await fetch(`${url}/status`)).json()) as { tasks: { state: string }[] }).tasks[0]?.state ??
      "none";
    await fetch(`${url}/config`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...config, "table.include.list": TABLE }),
    });
    await settled(async () => ((await topicEnd(kafka!, TOPIC)) >= 8 ? 1 : 0), 2_000, 180_000);
    await db.admin.query(`UPDATE ${TABLE} SET n = 10 WHERE id = 1`);
    await settled(async () => ((await topicEnd(kafka!, TOPIC)) === 9 ? 1 : 0), 2_000, 60_000);
    // Offsets are flushed every second on the test worker; the stop commits them too.
    await new Promise((r) => setTimeout(r, 3_000));
    await fetch(`${url}/stop`, { method: "PUT" });
    await settled(async () => (["none", "STOPPED"].includes(await state()) ? 1 : 0), 2_000, 60_000);
    const before = await truth();

    // The gap: changes nothing streams, then the slot goes.
    for (const sql of [
      `UPDATE ${TABLE} SET n = 20 WHERE id = 2`,
      `UPDATE ${TABLE} SET n = 30 WHERE id = 3`,
      `DELETE FROM ${TABLE} WHERE id = 4`,
      `DELETE FROM ${TABLE} WHERE id = 5`,
      `INSERT INTO ${TABLE} VALUES (9, 9)`,
      `DELETE FROM ${TABLE} WHERE id = 6`,
      `INSERT INTO ${TABLE} VALUES (6, 60)`,
    ])
      await db.admin.query(sql);
    await db.admin.query(`SELECT pg_drop_replication_slot('${SLOT}')`);
    await truth();

    recovery = await runResnapshot([
      ...["--recover-slot", "--slot", SLOT, "--table", TABLE, "--connector", name],
      ...[
        "--connect-url",
        kafka.worker.url,
        "--database-url",
        db.server.connectionString,
        "--timeout",
        "180",
      ],
    ]);
    if (recovery.code !== 0)
      throw new Error(`cdc-resnapshot --recover-slot: ${recovery.code} ${recovery.stderr}`);
    await db.admin.query(`UPDATE ${TABLE} SET n = 70 WHERE id = 7`);
    await db.admin.query(`INSERT INTO ${TABLE} VALUES (99, 99)`);
    const count = await settled(() => topicEnd(kafka!, TOPIC), 3_000, 60_000);
    const records = await readTopic(kafka.broker.bootstrapServers, TOPIC, { count });
    await fetch(url, { method: "DELETE" });
    commits = { before, after: await truth() };
    rows = (await db.admin.query<{ id: number; n: number }>(`SELECT id, n FROM ${TABLE} ORDER BY id`)).rows;

    const layout = await SinkLayout.open(join(dir, "bucket"), 4);
    layout.deliver(TOPIC, records);
    await layout.commit();
    await layout.close();
    const partition = join(layout.topicsDir, TOPIC, "partition=0");
    files = readdirSync(partition)
      .sort()
      .map((f) => join(partition, f));
    const report = JSON.parse(recovery.stdout) as { requestedAt: string; doneAt: string };
    const window = parseReconcile(`${TABLE}:${report.requestedAt}:${report.doneAt}`);
    const output = join(dir, "scd2");
    const summary = await run(layout.topicsDir, output, {
      tables: [{ table: TABLE }],
      topicPrefix: PREFIX,
      reconcile: [window],
    });
    reconciled = { history: await itemsHistory(output, "gap"), inferred: summary.tables[0]!.inferredDeletes };
  }, 900_000);

  afterAll(async () => {
    await kafka?.stop();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("the recovery's snapshot read every key that exists, none of those deleted in the gap", async () => {
    expect(JSON.parse(recovery.stdout)).toMatchObject({ status: "done", reconcile: true });
    expect([...(await readsOf(files, true)).keys()]).toEqual([1, 2, 3, 6, 7, 8, 9]);
  });

  it("every key's current version is PostgreSQL's, keys deleted in the gap are closed and flagged", async () => {
    expect(reconciled.inferred).toBe(2);
    expect(reconciled.history).toEqual(
      expectedItems([
        { snapshot: { reads: await readsOf(files, false), reconcile: false } },
        ...commits.before.map((commit) => ({ commit })),
        { snapshot: { reads: await readsOf(files, true), reconcile: true } },
        ...commits.after.map((commit) => ({ commit })),
      ]),
    );
    expect(reconciled.history.filter((v) => v.to === null).map(({ id, n }) => ({ id, n }))).toEqual(rows);
    expect(reconciled.history.filter((v) => v.inferred).map((v) => v.id)).toEqual([4, 5]);
    for (const id of [1, 8])
      expect(reconciled.history.filter((v) => v.id === id && v.op === "r")).toHaveLength(1);
  });
});
