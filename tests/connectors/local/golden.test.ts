/**
 * The local runtime against the golden fixtures: what real Debezium 3.6.1 (with the unwrap SMT of the
 * project's source config, and of the same config with the other decimal and time modes) wrote to each topic
 * for the workload of debezium-workload.ts. The runtime runs the same workload on an embedded PostgreSQL with
 * the project's setup and those configs; every record must have the same value schema and payload, in the
 * same field order. LSNs, txIds and times differ between runs: they are
 * compared by form (record-forms.ts). The runtime's JsonFormat files (NUMERIC and BASE64) must hold the lines
 * Kafka's JsonConverter wrote for Debezium's records, byte for byte but for those values. No Kafka: regenerate the fixtures with
 * `npx tsx tests/fixtures/debezium/regenerate.ts` when the workload changes.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEBEZIUM_VERSION } from "../../../connectors/local/snapshot";
import { engineVersions } from "../../../engines/versions";
import type { EnvelopeRecord } from "./connect-json";
import type { ConnectorConfig } from "../../../connectors/config";
import {
  expectedRecords,
  jsonFileLines,
  runWorkload,
  stableSourceConfig,
  startLocalCapture,
  startWorkloadDatabase,
  topicsOf,
  variantConfigs,
  VARIANTS,
  WORKLOAD_TOPICS,
  type LocalCapture,
  type WorkloadDatabase,
} from "./debezium-capture";
import { WORKLOAD } from "./debezium-workload";
import { readGoldenJsonFormat, readGoldenManifest, readGoldenRecords } from "./golden-fixtures";
import { DECIMAL_FORMATS, type DecimalFormat } from "./json-format-lines";
import { byForm, keyOrder, lineByForm, ofTopic } from "./record-forms";

const STALE = "the golden fixtures are stale: run npx tsx tests/fixtures/debezium/regenerate.ts";

describe("the local runtime against Debezium's golden records", () => {
  const golden = readGoldenRecords();
  let dir: string;
  let db: WorkloadDatabase;
  let configs: ConnectorConfig[];
  let records: EnvelopeRecord[];
  /** Where the default config's records were written by a JsonFormat sink, per decimal format. */
  const jsonBuckets = {} as Record<DecimalFormat, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cdc-golden-"));
    chmodSync(dir, 0o755);
    db = await startWorkloadDatabase(dir);
    configs = await variantConfigs(db);
    const captures: LocalCapture[] = [];
    try {
      for (const [i, config] of configs.entries())
        captures.push(await startLocalCapture(config, join(dir, `bucket-${i}`)));
      // The default config once more per decimal format, each on a slot of its own, into JsonFormat files.
      for (const format of DECIMAL_FORMATS) {
        const slot = `json_${format.toLowerCase()}`;
        await db.createSlot(slot);
        jsonBuckets[format] = join(dir, `json-${format}`);
        const json = { type: "json", decimalFormat: format } as const;
        captures.push(
          await startLocalCapture(db.sourceConfig(VARIANTS[0]!, slot), jsonBuckets[format], json),
        );
      }
      records = (await runWorkload(db, captures)).slice(0, configs.length).flat();
    } finally {
      for (const capture of captures) await capture.stop();
    }
  }, 300_000);

  afterAll(async () => {
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the fixtures come from this workload, these source configs and the pinned Debezium", () => {
    const manifest = readGoldenManifest();
    expect(manifest.workload, STALE).toEqual(JSON.parse(JSON.stringify(WORKLOAD)));
    expect(manifest.sourceConfigs, STALE).toEqual(
      Object.fromEntries(configs.map((c) => [c.config["topic.prefix"], stableSourceConfig(c)])),
    );
    expect(manifest.topics, STALE).toEqual(
      Object.fromEntries(WORKLOAD_TOPICS.map((t) => [t, expectedRecords(t).total])),
    );
    expect(manifest.debezium, STALE).toBe(engineVersions().debezium);
    // The release the runtime names in source.version is the one it is held to.
    expect(DEBEZIUM_VERSION).toBe(manifest.debezium);
  });

  for (const topic of WORKLOAD_TOPICS) {
    it(`${topic}: every record's value schema and payload, in field order`, () => {
      const local = ofTopic(records, topic).map(byForm);
      const real = ofTopic(golden, topic).map(byForm);
      expect(local).toEqual(real);
      expect(local.map((r) => keyOrder(r.value))).toEqual(real.map((r) => keyOrder(r.value)));
    });
  }

  for (const format of DECIMAL_FORMATS) {
    it(`JsonFormat ${format}: the files hold the lines Kafka's JsonConverter wrote for Debezium's records`, () => {
      for (const topic of topicsOf(configs[0]!)) {
        const golden = readGoldenJsonFormat(topic, format).map(lineByForm);
        expect(jsonFileLines(jsonBuckets[format], topic).map(lineByForm)).toEqual(golden);
      }
    });
  }
});
