/**
 * The local runtime against real Debezium 3.6.1, in the same run: one embedded PostgreSQL with the project's
 * source setup, the project's source config deployed on a real Kafka Connect worker (address and password as
 * `${file:…}` placeholders the worker resolves) and given to the local runtime on a second slot of the same
 * publication. Both capture the workload of debezium-workload.ts; every record must have the same value schema
 * and payload, in the same field order. Each takes its own snapshot, so snapshot rows differ in LSN, txId and
 * time (compared by form); streamed changes come from the same WAL, so they must match exactly.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProgress } from "../../../engines/progress";
import { ensureKafkaEngines } from "../../../engines/provision";
import type { EnvelopeRecord } from "./connect-json";
import {
  runWorkload,
  startLocalCapture,
  startWorkloadDatabase,
  TOPICS,
  type Capture,
  type WorkloadDatabase,
} from "./debezium-capture";
import { startDebeziumCapture, startKafkaConnect, type KafkaConnect } from "./debezium-connect";
import { readGoldenRecords } from "./golden-fixtures";
import { byForm, keyOrder, ofTopic, volatileValues } from "./record-forms";

const streamed = (records: EnvelopeRecord[]) =>
  records.filter((r) => (r.value.payload as { __op: string }).__op !== "r");

describe("the local runtime against real Debezium, same database, same run", () => {
  let dir: string;
  let db: WorkloadDatabase | undefined;
  let kafka: KafkaConnect | undefined;
  let debezium: EnvelopeRecord[];
  let local: EnvelopeRecord[];

  beforeAll(async () => {
    const engines = await ensureKafkaEngines(createProgress("debezium-parity-test"));
    dir = mkdtempSync(join(tmpdir(), "cdc-parity-"));
    chmodSync(dir, 0o755);
    db = await startWorkloadDatabase(dir);
    await db.createSlot("local_slot");
    kafka = await startKafkaConnect(engines, join(dir, "kafka"));
    const captures: Capture[] = [await startDebeziumCapture(kafka, db.sourceConfig())];
    try {
      captures.push(await startLocalCapture(db.sourceConfig("local_slot"), join(dir, "bucket")));
      [debezium, local] = (await runWorkload(db, captures)) as [EnvelopeRecord[], EnvelopeRecord[]];
    } finally {
      for (const capture of captures) await capture.stop();
    }
  }, 900_000);

  afterAll(async () => {
    await kafka?.stop();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  for (const topic of TOPICS) {
    it(`${topic}: every record's value schema and payload, in field order`, () => {
      const fromRuntime = ofTopic(local, topic).map(byForm);
      const fromDebezium = ofTopic(debezium, topic).map(byForm);
      expect(fromRuntime).toEqual(fromDebezium);
      expect(fromRuntime.map((r) => keyOrder(r.value))).toEqual(fromDebezium.map((r) => keyOrder(r.value)));
    });

    it(`${topic}: streamed changes carry the same LSNs, txIds, commit times and sequences`, () => {
      const fromDebezium = streamed(ofTopic(debezium, topic));
      expect(fromDebezium.length).toBeGreaterThan(0);
      expect(streamed(ofTopic(local, topic)).map(volatileValues)).toEqual(fromDebezium.map(volatileValues));
    });

    it(`${topic}: the golden fixtures are what Debezium writes today`, () => {
      const golden = ofTopic(readGoldenRecords(), topic).map(byForm);
      expect(ofTopic(debezium, topic).map(byForm)).toEqual(golden);
    });
  }
});
