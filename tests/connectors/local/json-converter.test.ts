/**
 * The S3 sink's JsonFormat writes each value with Kafka's own JsonConverter (schemas.enable=false,
 * json.decimal.format NUMERIC or BASE64). The sink cannot run here, so the local runtime's JSON files are held
 * to that converter itself: JsonFormatLines.java (compiled now against the engines' jars) reads the records the
 * runtime put on its topics back as the sink task would and writes them as JsonFormat does; the runtime's
 * files must hold the same lines, byte for byte. The workload (debezium-workload.ts) brings every column type,
 * NaN and infinities, defaults and nulls.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProgress } from "../../../engines/progress";
import { ensureKafkaEngines } from "../../../engines/provision";
import { TopicHop } from "../../../connectors/local/topic-hop";
import { envelopes, type EnvelopeRecord, type Json } from "./connect-json";
import {
  LOCAL_BUCKET,
  runWorkload,
  startLocalCapture,
  startWorkloadDatabase,
  TOPICS,
  type WorkloadDatabase,
} from "./debezium-capture";
import { keyOrder, ofTopic } from "./record-forms";

const DECIMAL_FORMATS = ["NUMERIC", "BASE64"] as const;
type DecimalFormat = (typeof DECIMAL_FORMATS)[number];

/** Per record, what JsonFormatLines.java printed: the topic form again, then the NUMERIC and BASE64 lines. */
interface ConverterLines {
  topic: string;
  lines: Record<DecimalFormat, string>;
}

function runJsonConverter(classpath: string, records: EnvelopeRecord[]): ConverterLines[] {
  const input = records.map((r) => `${JSON.stringify(r.value)}\n`).join("");
  const output = execFileSync("java", ["-cp", classpath, "JsonFormatLines"], { input, maxBuffer: 1 << 28 });
  const lines = output.toString("utf8").trimEnd().split("\n");
  expect(lines).toHaveLength(records.length * 3);
  return records.map((_, i) => ({
    topic: lines[3 * i]!,
    lines: { NUMERIC: lines[3 * i + 1]!, BASE64: lines[3 * i + 2]! },
  }));
}

/** The lines of a topic's JSON files in the runtime's bucket, in offset order. */
function fileLines(bucketRoot: string, topic: string): string[] {
  const dir = join(bucketRoot, LOCAL_BUCKET, "cdc_data", topic, "partition=0");
  return readdirSync(dir)
    .sort()
    .flatMap((file) => readFileSync(join(dir, file), "utf8").trimEnd().split("\n"));
}

describe("JsonFormat files against Kafka's JsonConverter", () => {
  let dir: string;
  let db: WorkloadDatabase;
  /**
   * Per format: the records on the topic, as the sink reads them back (through TopicHop: what Java's topic
   * line is, written again after the trip), and what JsonFormatLines.java printed for them.
   */
  const runs = {} as Record<
    DecimalFormat,
    { bucketRoot: string; records: EnvelopeRecord[]; sinkRecords: EnvelopeRecord[]; java: ConverterLines[] }
  >;

  beforeAll(async () => {
    const { libDir } = await ensureKafkaEngines(createProgress("json-converter-test"));
    dir = mkdtempSync(join(tmpdir(), "cdc-json-converter-"));
    chmodSync(dir, 0o755);
    const classes = join(dir, "classes");
    mkdirSync(classes);
    execFileSync("javac", ["-cp", `${libDir}/*`, "-d", classes, join(__dirname, "JsonFormatLines.java")]);
    db = await startWorkloadDatabase(dir);
    // One runtime per decimal format, each on its own slot: both see the same changes.
    await db.createSlot("base64_slot");
    const captures = await Promise.all(
      DECIMAL_FORMATS.map((decimalFormat, i) =>
        startLocalCapture(db.sourceConfig(i === 0 ? undefined : "base64_slot"), join(dir, decimalFormat), {
          type: "json",
          decimalFormat,
        }),
      ),
    );
    try {
      const records = await runWorkload(db, captures);
      const hop = new TopicHop(true);
      DECIMAL_FORMATS.forEach((format, i) => {
        runs[format] = {
          bucketRoot: join(dir, format),
          records: records[i]!,
          sinkRecords: envelopes(captures[i]!.unwrapped().map((r) => hop.apply(r))),
          java: runJsonConverter(`${classes}:${libDir}/*`, records[i]!),
        };
      });
    } finally {
      for (const capture of captures) await capture.stop();
    }
  }, 600_000);

  afterAll(async () => {
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("connect-json.ts writes records as JsonConverter does (the form the parity tests compare)", () => {
    for (const { sinkRecords, java } of Object.values(runs)) {
      const written = java.map((j) => JSON.parse(j.topic) as Json);
      expect(sinkRecords.map((r) => r.value)).toEqual(written);
      expect(sinkRecords.map((r) => keyOrder(r.value))).toEqual(written.map((w) => keyOrder(w)));
    }
  });

  for (const format of DECIMAL_FORMATS) {
    it(`json.decimal.format=${format}: the runtime's files hold JsonFormat's lines, byte for byte`, () => {
      const { bucketRoot, records, java } = runs[format];
      for (const topic of TOPICS) {
        const expected = ofTopic(records, topic).map((r) => java[records.indexOf(r)]!.lines[format]);
        expect(fileLines(bucketRoot, topic)).toEqual(expected);
      }
    });
  }
});
