/**
 * Dates and times far from 1970 (BC, the first millennium, the Julian-Gregorian switch of 1582, five- and
 * six-digit years): the local runtime against real Debezium 3.6.1 on one embedded PostgreSQL, in each
 * time.precision.mode, as scalars, arrays and ranges, in snapshot rows (Debezium reads them over JDBC) and
 * streamed rows (pgoutput text). Every record must have the same value schema and payload, integers beyond
 * ±2^53 compared exactly.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnwrappedRecord } from "../../../connectors/local";
import { createProgress } from "../../../engines/progress";
import { ensureKafkaEngines } from "../../../engines/provision";
import { envelopes, type EnvelopeRecord, type Json } from "./connect-json";
import { createConnector, startKafkaConnect, type KafkaConnect } from "./debezium-connect";
import { captureSetup, runtimeFor, useHarness } from "./harness";
import { byForm } from "./record-forms";
import { readExactRecords, topicEnd } from "./topic-reads";

const TABLE = "public.eras";

/** Column → type: each temporal type with a year, at each precision class, as scalar, array and range. */
const COLUMNS: Record<string, string> = {
  d: "date",
  ts: "timestamp",
  ts3: "timestamp(3)",
  ts0: "timestamp(0)",
  tstz: "timestamptz",
  tstz3: "timestamptz(3)",
  tstz0: "timestamptz(0)",
  d_arr: "date[]",
  ts_arr: "timestamp[]",
  tstz_arr: "timestamptz[]",
  dr: "daterange",
  tsr: "tsrange",
  tstzr: "tstzrange",
};

/** A row per case: the date, timestamp and timestamptz (UTC unless an offset says otherwise) it holds. */
const CASES: [string, string, string][] = [
  ["0044-03-15 BC", "0044-03-15 12:30:45.123456 BC", "0044-03-15 12:30:45.123456+00 BC"],
  ["0001-12-31 BC", "0001-12-31 23:59:59.999999 BC", "0001-12-31 23:59:59.999999+00 BC"],
  ["0001-01-01 BC", "0001-01-01 00:00:00 BC", "0001-12-31 23:30:00-01 BC"],
  ["4713-01-01 BC", "4713-01-01 00:00:00 BC", "4713-01-01 00:00:00+00 BC"],
  ["0001-01-01", "0001-01-01 00:00:00", "0001-01-01 00:30:00+01"],
  // 29 February of 1 BC and 5 BC (leap years): no such day in 1 or 5 AD, which pgjdbc's year of era gives.
  ["0001-02-29 BC", "0001-02-29 12:00:00 BC", "0001-02-29 12:00:00+00 BC"],
  ["0005-02-29 BC", "0005-02-29 00:00:00 BC", "0005-02-29 23:30:00-01 BC"],
  ["0999-12-31", "0999-12-31 23:59:59.5", "0999-12-31 23:59:59.5+00"],
  ["1582-10-10", "1582-10-10 12:00:00", "1582-10-04 12:00:00+00"],
  ["1582-10-15", "1582-10-14 23:59:59", "1582-10-10 12:00:00+00"],
  // At UTC: 29 February 1500 (a Julian leap day), and across the 1582 switch.
  ["1500-02-28", "1500-02-28 23:59:59", "1500-03-01 00:30:00+01"],
  ["1582-10-04", "1582-10-04 23:59:59.999999", "1582-10-15 00:30:00+01"],
  ["9999-12-31", "9999-12-31 23:59:59.999999", "9999-12-31 23:30:00-01"],
  ["10000-01-01", "10000-01-01 00:00:00.5", "10000-01-01 00:00:00.5+00"],
  // DuckDB's TIMESTAMP (connect mode's Parquet column) ends in 294247: the timestamp stays below it.
  ["5874897-12-31", "200000-06-30 12:00:00.000001", "294276-12-31 23:59:59.999999+00"],
];

/** Columns the inserts leave to their DDL default: the schema's default and the value. */
const DEFAULTED = [
  "dd date NOT NULL DEFAULT '0044-03-15 BC'",
  "tsd timestamp NOT NULL DEFAULT '0001-12-31 23:59:59.999999 BC'",
  "tstzd timestamptz NOT NULL DEFAULT '10000-01-01 00:00:00+00'",
];

function insert(id: number, [date, ts, tstz]: [string, string, string]): string {
  const values = [
    ...[date, ts, ts, ts, tstz, tstz, tstz].map((v) => `'${v}'`),
    ...[date, ts, tstz].map((v) => `'{"${v}"}'`),
    ...[date, ts, tstz].map((v) => `'["${v}",)'`),
  ];
  return `INSERT INTO ${TABLE} (id, ${Object.keys(COLUMNS).join(", ")}) VALUES (${id}, ${values.join(", ")})`;
}

const MODES = ["adaptive", "adaptive_time_microseconds", "connect"] as const;
/** Each mode has its topic prefix (the same for Debezium and the runtime: the value schema names it). */
const topicOf = (mode: string) => `${mode}.${TABLE}`;
/** Snapshot rows 1..n, then streamed rows 101..100+n. */
const TOTAL = CASES.length * 2;

/** Waits until every mode's topic has `n` records by `count`. */
async function eachTopicReaches(count: (topic: string) => Promise<number> | number, n: number) {
  const deadline = Date.now() + 180_000;
  for (const mode of MODES) {
    while ((await count(topicOf(mode))) < n) {
      if (Date.now() > deadline) throw new Error(`${topicOf(mode)}: fewer than ${n} records after 180 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe("dates and times far from 1970: the local runtime against real Debezium", () => {
  const h = useHarness();
  let kafka: KafkaConnect | undefined;
  const debezium: Record<string, EnvelopeRecord[]> = {};
  const local: Record<string, EnvelopeRecord[]> = {};

  beforeAll(async () => {
    const engines = await ensureKafkaEngines(createProgress("debezium-eras-test"));
    const columns = Object.entries(COLUMNS).map(([c, t]) => `${c} ${t}`);
    await h.db.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, ${[...columns, ...DEFAULTED].join(", ")})`);
    for (const [i, row] of CASES.entries()) await h.db.query(insert(i + 1, row));
    // A machine zone other than UTC: Debezium prints a tstzrange in its JVM's zone, which the engines pin
    // to UTC as the worker image does (without the pin the tstzrange reads
    // "0044-03-15 07:34:43.123456-04:56:02 BC" here, and the records differ).
    kafka = await startKafkaConnect(engines, join(h.root, "kafka"), { TZ: "America/New_York" });
    const seen: UnwrappedRecord[] = [];
    const runtimes = [];
    try {
      for (const mode of MODES) {
        const overrides = {
          source: { "topic.prefix": mode, "time.precision.mode": mode },
          sink: { topics: topicOf(mode) },
        };
        const { source } = await captureSetup(h, [TABLE], overrides);
        await createConnector(kafka.worker.url, source.name!, source);
        const setup = await captureSetup(h, [TABLE], overrides);
        runtimes.push(await runtimeFor(setup, { onRecord: (r) => seen.push(r) }));
      }
      await eachTopicReaches((topic) => topicEnd(kafka!, topic), CASES.length);
      for (const [i, row] of CASES.entries()) await h.db.query(insert(i + 101, row));
      await eachTopicReaches((topic) => topicEnd(kafka!, topic), TOTAL);
      await eachTopicReaches((topic) => seen.filter((r) => r.topic === topic).length, TOTAL);
      for (const mode of MODES) {
        debezium[mode] = await readExactRecords(kafka, topicOf(mode));
        local[mode] = envelopes(seen.filter((r) => r.topic === topicOf(mode)));
      }
    } finally {
      // Stopping flushes the runtime's Parquet files: a value DuckDB cannot write fails here.
      for (const runtime of runtimes) await runtime.stop();
    }
  }, 900_000);

  afterAll(async () => {
    await kafka?.stop();
  }, 120_000);

  const payloads = (records: EnvelopeRecord[]) => records.map((r) => byForm(r).value.payload);

  for (const mode of MODES) {
    it(`time.precision.mode ${mode}: every record's value schema and payload`, () => {
      expect(debezium[mode]!.length).toBe(TOTAL);
      expect(payloads(local[mode]!)).toEqual(payloads(debezium[mode]!));
      expect(local[mode]!.map((r) => r.value.schema)).toEqual(debezium[mode]!.map((r) => r.value.schema));
    });
  }

  it("Debezium's values of 44 BC, streamed: proleptic ISO year -0043; arrays through java.sql types", () => {
    const row = (payloads(debezium.adaptive!) as { [key: string]: Json }[]).find((p) => p.id === 101)!;
    expect([row.d, row.ts, row.tstz, row.d_arr, row.ts_arr, row.tstz_arr]).toEqual([
      -735160,
      -63517778954876544n,
      "-0043-03-15T12:30:45.123456Z",
      [-703383],
      [-63517951754876544n],
      ["0044-03-15T12:30:45.123456Z"],
    ]);
  });

  it("Debezium's DDL defaults far from 1970: PostgreSQL's calendar, in the schema and the values", () => {
    const schema = debezium.adaptive![0]!.value.schema as { fields: { field: string; default?: Json }[] };
    const defaults = schema.fields.filter((f) => ["dd", "tsd", "tstzd"].includes(f.field));
    expect(defaults.map((f) => [f.field, f.default])).toEqual([
      ["dd", -735160],
      ["tsd", -62135596800000001n],
      ["tstzd", "+10000-01-01T00:00:00.000000Z"],
    ]);
    const row = (payloads(debezium.adaptive!) as { [key: string]: Json }[]).find((p) => p.id === 1)!;
    expect([row.dd, row.tsd, row.tstzd]).toEqual([
      -703383,
      -62135596800000001n,
      "+10000-01-01T00:00:00.000000Z",
    ]);
  });
});
