/**
 * The SCD2 job on real Debezium 3.6.1's incremental-snapshot records: the project's source config on
 * `commerce.items` (initial snapshot, then an execute-snapshot request in chunks of 3), with updates,
 * deletes and inserts inside the chunk windows and right after a read, in the connector's own watermark
 * transactions (tests/connectors/local/incremental-workload.ts). The records are laid out as the S3 sink
 * writes them; the job's history must be PostgreSQL's commits (a test_decoding slot), the re-snapshot's
 * reads adding no version: they are placed by Debezium's own `sequence`, not by the job's guess.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantSql, publicationSql, sourceSetup } from "../../connectors/database";
import { createProgress } from "../../engines/progress";
import { ensureKafkaEngines } from "../../engines/provision";
import { readTopic } from "../../engines/kafka-records";
import {
  CAPTURED_TABLES,
  startWorkloadDatabase,
  type WorkloadDatabase,
} from "../connectors/local/debezium-capture";
import { deleteConnector, startKafkaConnect, type KafkaConnect } from "../connectors/local/debezium-connect";
import {
  CHUNK_SIZE,
  ITEMS_DDL,
  ITEMS_RESET,
  ITEMS_TABLE,
  snapshotRequestSql,
} from "../connectors/local/incremental-workload";
import { settled, topicEnd } from "../connectors/local/topic-reads";
import { run } from "./helpers/fixtures";
import type { ItemsCommit, ItemVersion } from "./helpers/items-truth";
import { expectedItems, itemsHistory, itemsOracle, readsOf } from "./helpers/items-truth";
import { SinkLayout } from "./real-debezium/layout";

const PREFIX = "resnap";
const TOPIC = `${PREFIX}.${ITEMS_TABLE}`;
const SLOT = "resnap_debezium";

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("SCD2 over real Debezium's re-snapshot records", () => {
  let dir: string;
  let db: WorkloadDatabase | undefined;
  let kafka: KafkaConnect | undefined;
  let commits: ItemsCommit[];
  let history: ItemVersion[];
  let files: string[];
  let finalRows: { id: number; n: number }[];

  beforeAll(async () => {
    const engines = await ensureKafkaEngines(createProgress("scd2-real-debezium-resnapshot"));
    dir = mkdtempSync(join(tmpdir(), "scd2-resnapshot-dbz-"));
    chmodSync(dir, 0o755);
    db = await startWorkloadDatabase(dir);
    for (const sql of ITEMS_DDL) await db.admin.query(sql);
    const setup = sourceSetup();
    await db.admin.query(
      publicationSql({
        ...setup.publication,
        tables: [...setup.publication.tables, ...CAPTURED_TABLES.slice(2), ITEMS_TABLE],
      }),
    );
    await db.admin.query(
      grantSql({
        role: setup.role.name,
        schema: "commerce",
        objectType: "table",
        objects: ["items"],
        privileges: ["SELECT"],
      }),
    );
    for (const sql of ITEMS_RESET) await db.admin.query(sql);
    const truth = await itemsOracle(db.admin, "resnap_truth", ITEMS_TABLE);
    await db.createSlot(SLOT);
    kafka = await startKafkaConnect(engines, join(dir, "kafka"));
    const { name, config } = db.sourceConfig(
      { topicPrefix: PREFIX, settings: { name: "cdc-source-resnap", signal: { chunkSize: CHUNK_SIZE } } },
      SLOT,
    );
    const put = await fetch(`${kafka.worker.url}/connectors/${name}/config`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...config, "table.include.list": ITEMS_TABLE }),
    });
    if (put.status !== 201) throw new Error(`creating ${name}: HTTP ${put.status} ${await put.text()}`);
    // The initial snapshot's 10 reads, then the request once the task streams.
    await until("the initial snapshot", 240_000, async () => (await topicEnd(kafka!, TOPIC)) >= 10);
    await db.admin.query("UPDATE commerce.items SET n = 50 WHERE id = 6");
    await db.admin.query(snapshotRequestSql("resnapshot-scd2"));
    const count = await settled(() => topicEnd(kafka!, TOPIC), 8_000, 240_000);
    const records = await readTopic(kafka.broker.bootstrapServers, TOPIC, { count });
    await deleteConnector(kafka.worker.url, name, db.admin, SLOT);
    commits = await truth();
    finalRows = (
      await db.admin.query<{ id: number; n: number }>("SELECT id, n FROM commerce.items ORDER BY id")
    ).rows;

    const layout = await SinkLayout.open(join(dir, "bucket"), 4);
    layout.deliver(TOPIC, records);
    await layout.commit();
    await layout.close();
    const partition = join(layout.topicsDir, TOPIC, "partition=0");
    files = readdirSync(partition)
      .sort()
      .map((f) => join(partition, f));
    const output = join(dir, "scd2");
    await run(layout.topicsDir, output, { tables: [{ table: ITEMS_TABLE }], topicPrefix: PREFIX });
    history = await itemsHistory(output, "items");
  }, 900_000);

  afterAll(async () => {
    await kafka?.stop();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("Debezium read keys during the re-snapshot, after changes to them and before others", async () => {
    expect((await readsOf(files, false)).size).toBe(10);
    expect([...(await readsOf(files, true)).keys()]).toEqual([1, 4, 6, 7, 9, 11]);
  });

  it("the history is PostgreSQL's commits: no read makes a version, current versions are the table", async () => {
    const initial = await readsOf(files, false);
    expect(history).toEqual(
      expectedItems([
        { snapshot: { reads: initial, reconcile: false } },
        ...commits.map((commit) => ({ commit })),
      ]),
    );
    expect(history.filter((v) => v.to === null).map(({ id, n }) => ({ id, n }))).toEqual(finalRows);
  });
});
