/**
 * The S3 sink's JsonFormat writes each value with Kafka's own JsonConverter (schemas.enable=false,
 * json.decimal.format NUMERIC or BASE64). The sink cannot run here, so the local runtime's JSON files are held
 * to that converter itself: JsonFormatLines.java (compiled now against the engines' jars) reads the records the
 * runtime put on its topics back as the sink task would and writes them as JsonFormat does; the runtime's
 * files must hold the same lines, byte for byte. The workload (debezium-workload.ts) brings every column type,
 * NaN and infinities, defaults and nulls; the source config variants bring decimals as bytes and as strings,
 * Debezium's times and Kafka's Date/Time/Timestamp.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProgress } from "../../../engines/progress";
import { ensureKafkaEngines } from "../../../engines/provision";
import { TopicHop } from "../../../connectors/local/topic-hop";
import { envelopes, type EnvelopeRecord, type Json } from "./connect-json";
import type { ConnectorConfig } from "../../../connectors/config";
import {
  jsonFileLines,
  runWorkload,
  startLocalCapture,
  startWorkloadDatabase,
  topicsOf,
  variantConfigs,
  VARIANTS,
  type LocalCapture,
  type WorkloadDatabase,
} from "./debezium-capture";
import {
  compileJsonFormatLines,
  DECIMAL_FORMATS,
  runJsonFormatLines,
  type ConverterLines,
  type DecimalFormat,
} from "./json-format-lines";
import { keyOrder, ofTopic } from "./record-forms";

/** One runtime: a source config variant with a JsonFormat sink of one decimal format, and what Java made of it. */
interface Run {
  format: DecimalFormat;
  topics: string[];
  bucketRoot: string;
  /** The records on the topic (connect-json.ts), in delivery order. */
  records: EnvelopeRecord[];
  /** The same records as the sink reads them back (TopicHop): what Java's topic line writes again. */
  sinkRecords: EnvelopeRecord[];
  java: ConverterLines[];
}

describe("JsonFormat files against Kafka's JsonConverter", () => {
  let dir: string;
  let db: WorkloadDatabase;
  const runs: Run[] = [];

  beforeAll(async () => {
    const { libDir } = await ensureKafkaEngines(createProgress("json-converter-test"));
    dir = mkdtempSync(join(tmpdir(), "cdc-json-converter-"));
    chmodSync(dir, 0o755);
    const classpath = compileJsonFormatLines(libDir, dir);
    db = await startWorkloadDatabase(dir);
    // A runtime per decimal format and source config variant, each on its own slot: all see the same changes.
    const started: {
      format: DecimalFormat;
      config: ConnectorConfig;
      bucketRoot: string;
      capture: LocalCapture;
    }[] = [];
    try {
      for (const format of DECIMAL_FORMATS) {
        for (const config of await variantConfigs(db, format.toLowerCase())) {
          const bucketRoot = join(dir, `${format}-${config.config["topic.prefix"]}`);
          const json = { type: "json", decimalFormat: format } as const;
          started.push({
            format,
            config,
            bucketRoot,
            capture: await startLocalCapture(config, bucketRoot, json),
          });
        }
      }
      const records = await runWorkload(
        db,
        started.map((s) => s.capture),
      );
      const hop = new TopicHop(true);
      for (const [i, { format, config, bucketRoot, capture }] of started.entries()) {
        runs.push({
          format,
          topics: topicsOf(config),
          bucketRoot,
          records: records[i]!,
          sinkRecords: envelopes(capture.unwrapped().map((r) => hop.apply(r))),
          java: runJsonFormatLines(classpath, records[i]!),
        });
      }
    } finally {
      for (const { capture } of started) await capture.stop();
    }
  }, 600_000);

  afterAll(async () => {
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("connect-json.ts writes records as JsonConverter does (the form the parity tests compare)", () => {
    for (const { sinkRecords, java } of runs) {
      const written = java.map((j) => JSON.parse(j.topic) as Json);
      expect(sinkRecords.map((r) => r.value)).toEqual(written);
      expect(sinkRecords.map((r) => keyOrder(r.value))).toEqual(written.map((w) => keyOrder(w)));
    }
  });

  for (const format of DECIMAL_FORMATS) {
    it(`json.decimal.format=${format}: the runtime's files hold JsonFormat's lines, byte for byte`, () => {
      const ofFormat = runs.filter((r) => r.format === format);
      expect(ofFormat).toHaveLength(VARIANTS.length);
      for (const { topics, bucketRoot, records, java } of ofFormat) {
        for (const topic of topics) {
          const expected = ofTopic(records, topic).map((r) => java[records.indexOf(r)]!.lines[format]);
          expect(jsonFileLines(bucketRoot, topic)).toEqual(expected);
        }
      }
    });
  }
});
