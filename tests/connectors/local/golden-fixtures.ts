/**
 * The golden fixtures in tests/fixtures/debezium/: what real Debezium wrote to each topic for the workload
 * (debezium-workload.ts), kept as produced. One file per topic holds its value schemas once and its records
 * (offset, schema index, payload); manifest.json names the engines, the source configs and the workload.
 * json-format/ holds, for the default config's topics, the lines Kafka's JsonConverter makes of those records
 * as the S3 sink's JsonFormat (per json.decimal.format). regenerate.ts writes them; golden.test.ts,
 * debezium-parity.test.ts and tests/analytics/formats.test.ts read them.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as prettier from "prettier";
import type { EnvelopeRecord, Json } from "./connect-json";
import type { DecimalFormat } from "./json-format-lines";
import type { WORKLOAD } from "./debezium-workload";
import { ofTopic } from "./record-forms";

export const FIXTURES_DIR = join(__dirname, "..", "..", "fixtures", "debezium");

export interface GoldenManifest {
  debezium: string;
  kafka: string;
  /** The source connector configs by topic prefix, as deployed; `${file:…}` paths read `<secrets file>`. */
  sourceConfigs: Record<string, Record<string, string>>;
  topics: Record<string, number>;
  workload: typeof WORKLOAD;
}

interface TopicFixture {
  topic: string;
  schemas: Json[];
  records: { offset: number; schema: number; payload: Json }[];
}

async function writeJson(file: string, data: unknown): Promise<void> {
  const options = await prettier.resolveConfig(file);
  writeFileSync(file, await prettier.format(JSON.stringify(data), { ...options, parser: "json" }));
}

export async function writeGoldenFixtures(
  manifest: GoldenManifest,
  records: EnvelopeRecord[],
): Promise<void> {
  for (const topic of Object.keys(manifest.topics)) {
    const fixture: TopicFixture = { topic, schemas: [], records: [] };
    const schemaKeys: string[] = [];
    for (const record of ofTopic(records, topic)) {
      const key = JSON.stringify(record.value.schema);
      if (!schemaKeys.includes(key)) {
        schemaKeys.push(key);
        fixture.schemas.push(record.value.schema);
      }
      fixture.records.push({
        offset: record.offset,
        schema: schemaKeys.indexOf(key),
        payload: record.value.payload,
      });
    }
    await writeJson(join(FIXTURES_DIR, `${topic}.json`), fixture);
  }
  await writeJson(join(FIXTURES_DIR, "manifest.json"), manifest);
}

const readJson = <T>(name: string): T => JSON.parse(readFileSync(join(FIXTURES_DIR, name), "utf8")) as T;

export function readGoldenManifest(): GoldenManifest {
  return readJson<GoldenManifest>("manifest.json");
}

/** Every topic's records, rebuilt as they were read from Kafka. */
export function readGoldenRecords(): EnvelopeRecord[] {
  return Object.keys(readGoldenManifest().topics).flatMap((topic) => {
    const fixture = readJson<TopicFixture>(`${topic}.json`);
    return fixture.records.map((r) => ({
      topic,
      offset: r.offset,
      value: { schema: fixture.schemas[r.schema]!, payload: r.payload },
    }));
  });
}

const jsonFormatFile = (topic: string, format: DecimalFormat) =>
  join(FIXTURES_DIR, "json-format", `${topic}.${format}.jsonl`);

/** The lines the S3 sink's JsonFormat writes for a topic's golden records, in offset order. */
export function writeGoldenJsonFormat(topic: string, format: DecimalFormat, lines: string[]): void {
  mkdirSync(join(FIXTURES_DIR, "json-format"), { recursive: true });
  writeFileSync(jsonFormatFile(topic, format), lines.map((line) => `${line}\n`).join(""));
}

export function readGoldenJsonFormat(topic: string, format: DecimalFormat): string[] {
  return readFileSync(jsonFormatFile(topic, format), "utf8").trimEnd().split("\n");
}
