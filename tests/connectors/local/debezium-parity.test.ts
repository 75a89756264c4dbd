/**
 * The local runtime against real Debezium 3.6.1, in the same run: one embedded PostgreSQL with the project's
 * source setup, the project's source config deployed on a real Kafka Connect worker (address and password as
 * `${file:…}` placeholders the worker resolves) and given to the local runtime on a second slot of the same
 * publication, and the same with the builder's other decimal and time modes (debezium-capture.ts VARIANTS).
 * All capture the workload of debezium-workload.ts; every record must have the same value schema
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
  variantConfigs,
  WORKLOAD_TOPICS,
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
    kafka = await startKafkaConnect(engines, join(dir, "kafka"));
    const [debeziumConfigs, localConfigs] = [await variantConfigs(db), await variantConfigs(db, "local")];
    const captures: Capture[] = [];
    try {
      for (const config of debeziumConfigs) captures.push(await startDebeziumCapture(kafka, config));
      for (const [i, config] of localConfigs.entries())
        captures.push(await startLocalCapture(config, join(dir, `bucket-${i}`)));
      const records = await runWorkload(db, captures);
      debezium = records.slice(0, debeziumConfigs.length).flat();
      local = records.slice(debeziumConfigs.length).flat();
    } finally {
      for (const capture of captures) await capture.stop();
    }
  }, 900_000);

  afterAll(async () => {
    await kafka?.stop();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  for (const topic of WORKLOAD_TOPICS) {
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
