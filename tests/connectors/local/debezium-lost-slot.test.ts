/**
 * A lost slot under real Debezium 3.6.1 (docs/day-two.md): the connector is stopped, changes are made, the
 * slot is dropped, the connector is resumed. Debezium's task fails (its offset is no longer available on the
 * server) and does not create the slot again; the local runtime, in the same situation, refuses to start and
 * names the recovery. Neither streams on past the gap as if nothing was lost. Then `cdc-resnapshot
 * --recover-slot --connect-url` recovers Debezium: the slot back, the offsets moved to it through Connect's
 * API, the task running, and the incremental snapshot it requests reads every row's current state.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSinkConnector, PIPELINE_DEFAULTS } from "../../../connectors/config";
import { grantSql, sourceSetup } from "../../../connectors/database";
import { formatLsn } from "../../../connectors/local/lsn";
import { readConnectOffset } from "../../../connectors/signals/request";
import { startConnectorRuntime } from "../../../connectors/local";
import { createProgress } from "../../../engines/progress";
import { ensureKafkaEngines } from "../../../engines/provision";
import { runResnapshot, type CliResult } from "../signals/run-cli";
import type { EnvelopeRecord, Json } from "./connect-json";
import { startWorkloadDatabase, type WorkloadDatabase } from "./debezium-capture";
import { startKafkaConnect, type KafkaConnect } from "./debezium-connect";
import { readRecords, settled, topicEnd } from "./topic-reads";

const TABLE = "commerce.gap";
const TOPIC = `lost.${TABLE}`;
const SLOT = "lost_debezium";

const projection = (r: EnvelopeRecord) => {
  const p = r.value.payload as { [key: string]: Json };
  return [p.__op, p.id, p.__op === "d" ? null : p.n];
};

describe("a lost slot: real Debezium's task fails, the local runtime refuses", () => {
  let dir: string;
  let db: WorkloadDatabase | undefined;
  let kafka: KafkaConnect | undefined;
  let beforeRecovery: EnvelopeRecord[];
  let taskState: string;
  let taskTrace: string;
  let slotBack: boolean;
  let localError: string;
  let storedAtFailure: string;
  let recovery: CliResult;
  let afterRecovery: EnvelopeRecord[];

  beforeAll(async () => {
    const engines = await ensureKafkaEngines(createProgress("debezium-lost-slot-test"));
    dir = mkdtempSync(join(tmpdir(), "cdc-lost-slot-"));
    chmodSync(dir, 0o755);
    db = await startWorkloadDatabase(dir);
    const role = sourceSetup().role.name;
    await db.admin.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, n int NOT NULL)`);
    await db.admin.query(`INSERT INTO ${TABLE} SELECT i, i FROM generate_series(1, 3) i`);
    await db.admin.query(
      grantSql({ role, schema: "commerce", objectType: "table", objects: ["gap"], privileges: ["SELECT"] }),
    );
    await db.admin.query(`ALTER PUBLICATION ${PIPELINE_DEFAULTS.publicationName} ADD TABLE ${TABLE}`);
    await db.createSlot(SLOT);
    kafka = await startKafkaConnect(engines, join(dir, "kafka"));
    const { name, config } = db.sourceConfig(
      { topicPrefix: "lost", settings: { name: "cdc-source-lost" } },
      SLOT,
    );
    const source = { name, config: { ...config, "table.include.list": TABLE } };
    const url = `${kafka.worker.url}/connectors/${name}`;
    const state = async () =>
      ((await (await fetch(`${url}/status`)).json()) as { tasks: { state: string }[] }).tasks[0]?.state ??
      "none";
    await fetch(`${url}/config`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(source.config),
    });
    await settled(() => topicEnd(kafka!, TOPIC), 3_000, 180_000);
    await db.admin.query(`UPDATE ${TABLE} SET n = 10 WHERE id = 1`);
    await settled(async () => ((await topicEnd(kafka!, TOPIC)) === 4 ? 1 : 0), 2_000, 60_000);
    // Offsets are flushed every second on the test worker; the stop commits them too.
    await new Promise((r) => setTimeout(r, 3_000));
    await fetch(`${url}/stop`, { method: "PUT" });
    await settled(
      async () => ((await state()) === "none" || (await state()) === "STOPPED" ? 1 : 0),
      2_000,
      60_000,
    );

    // The gap: changes while nothing streams, then the slot goes.
    await db.admin.query(`UPDATE ${TABLE} SET n = 20 WHERE id = 2`);
    await db.admin.query(`DELETE FROM ${TABLE} WHERE id = 3`);
    await db.admin.query(`INSERT INTO ${TABLE} VALUES (4, 4)`);
    await db.admin.query(`SELECT pg_drop_replication_slot('${SLOT}')`);

    // The local runtime with stored offsets for that slot refuses (its offsets from a run of its own).
    const localSlot = "lost_local";
    await db.createSlot(localSlot);
    const localSource = { name: "lost-local", config: { ...source.config, "slot.name": localSlot } };
    const sink = buildSinkConnector({
      bucket: "cdc-local",
      region: "us-east-1",
      topicPrefix: "lost",
      tables: [TABLE],
    });
    const bucketRoot = join(dir, "bucket");
    const options = { source: localSource, sink, bucketRoot, logger: pino({ level: "silent" }) };
    await (await startConnectorRuntime(options)).stop();
    // The stopped runtime's walsender may take a moment to let the slot go.
    while (
      (
        await db.admin.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active", [
          localSlot,
        ])
      ).rowCount
    )
      await new Promise((r) => setTimeout(r, 100));
    await db.admin.query(`SELECT pg_drop_replication_slot('${localSlot}')`);
    localError = await startConnectorRuntime(options).then(
      async (runtime) => (await runtime.stop(), "started"),
      (err: Error) => err.message,
    );

    await fetch(`${url}/resume`, { method: "PUT" });
    await db.admin.query(`UPDATE ${TABLE} SET n = 11 WHERE id = 1`);
    // Until the post-gap change arrives or the task fails.
    const deadline = Date.now() + 120_000;
    while (
      (taskState = await state()) !== "FAILED" &&
      (await topicEnd(kafka, TOPIC)) < 5 &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 1000));
    taskTrace =
      ((await (await fetch(`${url}/status`)).json()) as { tasks: { trace?: string }[] }).tasks[0]?.trace ??
      "";
    slotBack =
      (await db.admin.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [SLOT])).rowCount ===
      1;
    beforeRecovery = await readRecords(kafka, TOPIC);

    // Recovery through Connect's REST API, as on a deployed stack; then a change made after it streams.
    storedAtFailure = formatLsn((await readConnectOffset(kafka.worker.url, name))!.lsn);
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
    if (recovery.code === 0) {
      await db.admin.query(`UPDATE ${TABLE} SET n = 21 WHERE id = 2`);
      await settled(() => topicEnd(kafka!, TOPIC), 3_000, 60_000);
    }
    afterRecovery = (await readRecords(kafka, TOPIC)).slice(beforeRecovery.length);
    await fetch(url, { method: "DELETE" });
  }, 900_000);

  afterAll(async () => {
    await kafka?.stop();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("Debezium's task fails: its offset is no longer on the server; the slot is not created again", () => {
    expect(taskState).toBe("FAILED");
    expect(taskTrace).toMatch(
      /^io.debezium.DebeziumException: The connector is trying to read change stream starting at /,
    );
    expect(taskTrace).toContain("but this is no longer available on the server");
    expect(slotBack).toBe(false);
    expect(beforeRecovery.map(projection)).toEqual([
      ["r", 1, 1],
      ["r", 2, 2],
      ["r", 3, 3],
      ["u", 1, 10],
    ]);
  });

  it("the local runtime refuses to stream on past the gap, naming the recovery", () => {
    expect(localError).toMatch(
      /replication slot "lost_local" does not exist, but the offsets say streaming reached/,
    );
    expect(localError).toContain("cdc-resnapshot --recover-slot");
  });

  it("cdc-resnapshot --recover-slot --connect-url: the slot back, streaming on, every row's state read again", () => {
    expect([recovery.code, recovery.stderr]).toEqual([0, expect.stringContaining("cdc-resnapshot: done")]);
    const report = JSON.parse(recovery.stdout) as { slotRecovery: { to: string } };
    expect(report).toMatchObject({
      tables: [TABLE],
      status: "done",
      slotRecovery: { slot: SLOT, slotAction: "created", from: storedAtFailure },
      reconcile: true,
    });
    expect(recovery.stderr).toContain(
      `slot ${SLOT} created; streaming continues at ${report.slotRecovery.to} (stored offset was ${storedAtFailure})`,
    );
    // The current state of every row as reads (the update of 1 to 11 and everything in the gap were never
    // streamed; 3, deleted in the gap, has no read), then the change made after the recovery.
    expect(afterRecovery.map(projection)).toEqual([
      ["r", 1, 11],
      ["r", 2, 20],
      ["r", 4, 4],
      ["u", 2, 21],
    ]);
    expect(afterRecovery.slice(0, 3).map((r) => (r.value.payload as { __lsn: Json }).__lsn)).toEqual([
      null,
      null,
      null,
    ]);
  });
});
