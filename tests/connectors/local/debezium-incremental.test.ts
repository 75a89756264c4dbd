/**
 * Incremental snapshots: real Debezium 3.6.1 and the local runtime, each given the project's source config
 * (signals and incremental snapshots on, chunks of 3) and the same execute-snapshot request while changes
 * run inside and between the chunk windows (incremental-workload.ts). One after the other on the same
 * database, each on its own slot, the table reset in between: the records must be the same, value schema
 * and payload in order (run-dependent values by form), and replaying them must give PostgreSQL's table.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSinkConnector, PIPELINE_DEFAULTS, type ConnectorConfig } from "../../../connectors/config";
import { grantSql, publicationSql, sourceSetup } from "../../../connectors/database";
import { startConnectorRuntime, type UnwrappedRecord } from "../../../connectors/local";
import { createProgress } from "../../../engines/progress";
import { ensureKafkaEngines } from "../../../engines/provision";
import { readTopic } from "../../../engines/kafka-records";
import { envelopes, type EnvelopeRecord, type Json } from "./connect-json";
import { CAPTURED_TABLES, startWorkloadDatabase, type WorkloadDatabase } from "./debezium-capture";
import { createConnector, deleteConnector, startKafkaConnect, type KafkaConnect } from "./debezium-connect";
import { listTopics, readRecords, settled, topicEnd } from "./topic-reads";
import {
  CHUNK_SIZE,
  EXPECTED_ITEMS,
  ITEMS_DDL,
  ITEMS_RESET,
  ITEMS_TABLE,
  snapshotRequestSql,
} from "./incremental-workload";
import { byForm, keyOrder } from "./record-forms";

const TOPIC = `inc.${ITEMS_TABLE}`;
const SIGNAL_TOPIC = `inc.${PIPELINE_DEFAULTS.signalTable}`;
/** Adds the source fields that tell an incremental read from the others to every record. */
const ADD_FIELDS = "op,table,lsn,txId,source.ts_ms,sequence,source.snapshot,db,schema";

type Payload = { [key: string]: Json };
const payloadOf = (r: EnvelopeRecord) => r.value.payload as Payload;
const projection = (r: EnvelopeRecord) => {
  const p = payloadOf(r);
  return [p.__op, p.id, p.__op === "d" ? null : p.n];
};

/** The project's config for the items table, on `slot`. */
function itemsConfig(db: WorkloadDatabase, slot: string): ConnectorConfig {
  const { name, config } = db.sourceConfig(
    {
      topicPrefix: "inc",
      settings: {
        name: "cdc-source-incremental",
        snapshotMode: "no_data",
        signal: { chunkSize: CHUNK_SIZE },
      },
    },
    slot,
  );
  return {
    name,
    config: {
      ...config,
      "table.include.list": [...CAPTURED_TABLES, ITEMS_TABLE].join(","),
      "transforms.unwrap.add.fields": ADD_FIELDS,
    },
  };
}

/** Polls `check` every 250 ms until it holds; fails naming `what` after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function prepare(db: WorkloadDatabase, slot: string): Promise<void> {
  for (const sql of ITEMS_RESET) await db.admin.query(sql);
  await db.createSlot(slot);
}

describe("incremental snapshot: the local runtime against real Debezium", () => {
  let dir: string;
  let db: WorkloadDatabase | undefined;
  let kafka: KafkaConnect | undefined;
  let debezium: EnvelopeRecord[];
  let local: EnvelopeRecord[];
  let debeziumTopics: string[];
  const signalRecords: { debezium?: EnvelopeRecord[]; local?: EnvelopeRecord[] } = {};
  const finalRows: { debezium?: Payload[]; local?: Payload[] } = {};

  const tableRows = async () =>
    (await db!.admin.query<Payload>("SELECT id, label, n FROM commerce.items ORDER BY id")).rows;

  beforeAll(async () => {
    const engines = await ensureKafkaEngines(createProgress("debezium-incremental-test"));
    dir = mkdtempSync(join(tmpdir(), "cdc-incremental-"));
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
    kafka = await startKafkaConnect(engines, join(dir, "kafka"));

    // Real Debezium first.
    await prepare(db, "inc_debezium");
    const dbz = itemsConfig(db, "inc_debezium");
    await createConnector(kafka.worker.url, dbz.name, dbz.config);
    // The request goes in once the task streams: a task that a start-up rebalance restarts mid-snapshot
    // replays from its last stored offset and opens windows again.
    await until(`${dbz.name}'s task RUNNING`, 120_000, async () => {
      const status = await fetch(`${kafka!.worker.url}/connectors/${dbz.name}/status`);
      if (status.status !== 200) return false;
      const body = (await status.json()) as { tasks: { state: string }[] };
      return body.tasks[0]?.state === "RUNNING";
    });
    await db.admin.query(snapshotRequestSql("resnapshot-debezium"));
    const count = await settled(() => topicEnd(kafka!, TOPIC), 8_000, 240_000).catch((err: Error) => {
      throw new Error(`${err.message}; worker log ${kafka!.worker.logFile}`);
    });
    debezium = (await readTopic(kafka.broker.bootstrapServers, TOPIC, { count })).map((r) => ({
      topic: TOPIC,
      offset: r.offset,
      value: r.value as EnvelopeRecord["value"],
    }));
    debeziumTopics = await listTopics(kafka);
    signalRecords.debezium = await readRecords(kafka, SIGNAL_TOPIC);
    await deleteConnector(kafka.worker.url, dbz.name, db.admin, "inc_debezium");
    finalRows.debezium = await tableRows();

    // Then the runtime, on the table as it was.
    await prepare(db, "inc_local");
    const config = itemsConfig(db, "inc_local");
    const seen: UnwrappedRecord[] = [];
    const runtime = await startConnectorRuntime({
      source: config,
      sink: buildSinkConnector({
        bucket: "cdc-local",
        region: "us-east-1",
        topicPrefix: "inc",
        tables: [ITEMS_TABLE, PIPELINE_DEFAULTS.signalTable],
      }),
      bucketRoot: join(dir, "bucket"),
      logger: pino({ level: "silent" }),
      onRecord: (record) => seen.push(record),
    });
    try {
      await db.admin.query(snapshotRequestSql("resnapshot-local"));
      await settled(() => seen.length, 8_000, 120_000);
      await runtime.flush();
    } finally {
      await runtime.stop();
    }
    local = envelopes(seen.filter((r) => r.topic === TOPIC));
    signalRecords.local = envelopes(seen.filter((r) => r.topic === SIGNAL_TOPIC));
    finalRows.local = await tableRows();
  }, 900_000);

  afterAll(async () => {
    await kafka?.stop();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("Debezium emits what the workload predicts: reads only of keys no change touched in their window", () => {
    expect(debezium.map(projection)).toEqual(EXPECTED_ITEMS);
  });

  it("the runtime emits the same records: value schema and payload, in field order", () => {
    expect(local.map(byForm)).toEqual(debezium.map(byForm));
    expect(local.map((r) => keyOrder(r.value))).toEqual(debezium.map((r) => keyOrder(r.value)));
  });

  it("reads are op r, source.snapshot incremental, at a close watermark's position", () => {
    const reads = local.map(payloadOf).filter((p) => p.__op === "r");
    expect(reads.map((p) => p.__source_snapshot)).toEqual(reads.map(() => "incremental"));
    expect(
      debezium
        .map(payloadOf)
        .filter((p) => p.__op === "r")
        .map((p) => p.__source_snapshot),
    ).toEqual(reads.map(() => "incremental"));
  });

  it("replaying each capture's records gives PostgreSQL's table", () => {
    for (const [records, rows] of [
      [debezium, finalRows.debezium!],
      [local, finalRows.local!],
    ] as const) {
      const state = new Map<number, Payload>();
      for (const p of records.map(payloadOf)) {
        if (p.__op === "d") state.delete(p.id as number);
        else state.set(p.id as number, { id: p.id!, label: p.label!, n: p.n! });
      }
      expect([...state.values()].sort((a, b) => (a.id as number) - (b.id as number))).toEqual(rows);
    }
  });

  it("the signalling table's rows (request, watermarks) go to a topic of its own, table.include.list or not", () => {
    expect(debeziumTopics).toContain(SIGNAL_TOPIC);
    const rows = (records: EnvelopeRecord[]) => records.map((r) => [payloadOf(r).__op, payloadOf(r).type]);
    const expected = [
      ["c", "execute-snapshot"],
      ...Array(4)
        .fill([
          ["c", "snapshot-window-open"],
          ["c", "snapshot-window-close"],
        ])
        .flat(),
    ];
    expect(rows(signalRecords.debezium!)).toEqual(expected);
    expect(rows(signalRecords.local!)).toEqual(expected);
    expect(signalRecords.local!.map((r) => r.value.schema)).toEqual(
      signalRecords.debezium!.map((r) => r.value.schema),
    );
  });
});
