/**
 * int8 (bigint) values beyond ±2^53, and intervals whose microseconds are: the local runtime against real
 * Debezium 3.6.1 on one embedded PostgreSQL. A bigint primary key, a bigint column, a bigint[] and NOT NULL
 * bigint DDL defaults hold the extremes (±2^63), values just inside and just outside ±2^53 and
 * snowflake-style ids, in snapshot rows and streamed inserts, updates, deletes (key-only before-images) and
 * a primary-key change; intervals reach beyond ±2^53 µs and past ±2^63 µs. Every record must have the same
 * value schema and payload as Debezium's, integers compared exactly; the runtime's Parquet files (read back
 * with DuckDB as BIGINT), JsonFormat files and Avro schema defaults hold the same digits.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorRuntime, UnwrappedRecord } from "../../../connectors/local";
import { createProgress } from "../../../engines/progress";
import { ensureKafkaEngines } from "../../../engines/provision";
import { envelopes, parseExactJson, type EnvelopeRecord, type Json } from "./connect-json";
import { createConnector, startKafkaConnect, type KafkaConnect } from "./debezium-connect";
import { captureSetup, runtimeFor, topicFiles, useHarness } from "./harness";
import { byForm } from "./record-forms";
import { readExactRecords, topicEnd } from "./topic-reads";

const TABLE = "public.big_ids";
const TOPIC = `cdc.${TABLE}`;
/**
 * Without an array: flat records, which the Parquet writer may encode another way than nested ones. Its
 * interval column (MicroDuration, INT64 computed in doubles and cast to a long by Debezium) reaches beyond
 * ±2^53 and saturates at ±2^63.
 */
const FLAT = "public.big_flat";
const FLAT_TOPIC = `cdc.${FLAT}`;

/** Each is a row's id and value in the snapshot: the extremes, both sides of ±2^53, snowflake ids, small ones. */
const VALUES = [
  "9223372036854775807",
  "-9223372036854775808",
  "9007199254740991",
  "9007199254740992",
  "9007199254740993",
  "-9007199254740991",
  "-9007199254740992",
  "-9007199254740993",
  "1433333333333333333",
  "-1433333333333333333",
  "999999999999999",
  "-99999999999999",
  "1000000000000000",
  "42",
];

/** The flat table's intervals: small, beyond ±2^53 µs (300 years on), and past ±2^63 µs (saturated). */
const INTERVALS = [
  "1 day 02:03:04.5",
  "300 years",
  "40000 years 00:02:03.456789",
  "-40000 years -00:02:03.456789",
  "300000 years",
  "-178000000 years",
  "178000000 years 11 mons",
  "-0.5 seconds",
];

/** Streamed after the snapshot: every row updated (its array grows), deletes, a key change, inserts with defaults. */
const STREAMED = [
  "UPDATE public.big_ids SET arr = arr || v",
  "DELETE FROM public.big_ids WHERE id IN (9223372036854775807, -9223372036854775808, 9007199254740993)",
  "UPDATE public.big_ids SET id = 1433333333333333334 WHERE id = 1433333333333333333",
  "INSERT INTO public.big_ids (id, v) VALUES (-1433333333333333334, 9007199254740994), (7, NULL)",
];
/** Records the stream gives: an update per row, a delete each, the key change's delete and create, the inserts. */
const TOTAL = VALUES.length * 2 + 3 + 2 + 2;
/** The flat table: the snapshot rows and one streamed insert. */
const FLAT_TOTAL = VALUES.length + 1;

const exact = (text: string): number | bigint =>
  Number.isSafeInteger(Number(text)) ? Number(text) : BigInt(text);

async function reaches(count: () => Promise<number> | number, n: number, what: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while ((await count()) < n) {
    if (Date.now() > deadline) throw new Error(`${what}: fewer than ${n} records after 180 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The runtime's Parquet rows as DuckDB reads them: each column's type and its values as text. */
async function parquetRows(
  files: string[],
  columns: string[],
): Promise<{ types: string[]; rows: string[][]; avro: string[] }> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const list = files.map((f) => `'${f}'`).join(", ");
    const read = `read_parquet([${list}], hive_partitioning = false, filename = true, file_row_number = true)`;
    const types = await connection.runAndReadAll(
      `SELECT DISTINCT ${columns.map((c) => `typeof(${c})`).join(", ")} FROM ${read}`,
    );
    const rows = await connection.runAndReadAll(
      `SELECT ${columns.map((c) => `${c}::VARCHAR`).join(", ")} FROM ${read} ORDER BY filename, file_row_number`,
    );
    const avro = await connection.runAndReadAll(
      `SELECT decode(value) FROM parquet_kv_metadata([${list}]) WHERE decode(key) = 'parquet.avro.schema'`,
    );
    return {
      types: types.getRows().map((r) => r.join(" ")),
      rows: rows.getRows().map((r) => r.map((v) => (v === null ? "NULL" : String(v)))),
      avro: avro.getRows().map((r) => String(r[0])),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** How DuckDB prints a Debezium INT64 payload value (a list as `[a, b]`). */
function duckText(value: Json): string {
  if (value === null) return "NULL";
  if (Array.isArray(value)) return `[${value.map(duckText).join(", ")}]`;
  return String(value);
}

describe("int8 and intervals beyond ±2^53: the local runtime against real Debezium", () => {
  const h = useHarness();
  let kafka: KafkaConnect | undefined;
  /** By topic. */
  const debezium: Record<string, EnvelopeRecord[]> = {};
  const local: Record<string, EnvelopeRecord[]> = {};
  let parquetBucket = "";
  let jsonBucket = "";
  /** Why stopping a runtime failed, by sink format. */
  const stopErrors: Record<string, string> = {};

  beforeAll(async () => {
    const engines = await ensureKafkaEngines(createProgress("debezium-int8-test"));
    await h.db.query(
      `CREATE TABLE ${TABLE} (id bigint PRIMARY KEY, v bigint, arr bigint[],
         d bigint NOT NULL DEFAULT 9223372036854775807, dn bigint NOT NULL DEFAULT -9007199254740993)`,
    );
    await h.db.query(
      `CREATE TABLE ${FLAT} (id bigint PRIMARY KEY, d bigint NOT NULL DEFAULT -9223372036854775808, iv interval)`,
    );
    for (const [i, value] of VALUES.entries()) {
      await h.db.query(`INSERT INTO ${TABLE} (id, v, arr) VALUES ($1, $1, ARRAY[$1::bigint, NULL])`, [value]);
      await h.db.query(`INSERT INTO ${FLAT} (id, d, iv) VALUES ($1, $1, $2)`, [
        value,
        INTERVALS[i % INTERVALS.length],
      ]);
    }
    kafka = await startKafkaConnect(engines, join(h.root, "kafka"));
    const seen: UnwrappedRecord[] = [];
    const runtimes: { format: string; runtime: ConnectorRuntime }[] = [];
    try {
      const { source } = await captureSetup(h, [TABLE, FLAT]);
      await createConnector(kafka.worker.url, source.name!, source);
      const parquet = await captureSetup(h, [TABLE, FLAT]);
      parquetBucket = parquet.bucketRoot;
      runtimes.push({
        format: "parquet",
        runtime: await runtimeFor(parquet, { onRecord: (r) => seen.push(r) }),
      });
      const json = await captureSetup(h, [TABLE, FLAT], {
        sink: { "format.class": "io.confluent.connect.s3.format.json.JsonFormat" },
      });
      jsonBucket = json.bucketRoot;
      runtimes.push({ format: "json", runtime: await runtimeFor(json) });
      await reaches(() => topicEnd(kafka!, TOPIC), VALUES.length, TOPIC);
      for (const statement of STREAMED) await h.db.query(statement);
      await h.db.query(`INSERT INTO ${FLAT} (id) VALUES (-9007199254740994)`);
      await reaches(() => topicEnd(kafka!, TOPIC), TOTAL, TOPIC);
      await reaches(() => topicEnd(kafka!, FLAT_TOPIC), FLAT_TOTAL, FLAT_TOPIC);
      await reaches(() => seen.length, TOTAL + FLAT_TOTAL, "the runtime");
      for (const topic of [TOPIC, FLAT_TOPIC]) {
        debezium[topic] = await readExactRecords(kafka, topic);
        local[topic] = envelopes(seen.filter((r) => r.topic === topic));
      }
    } finally {
      // Stopping commits the open files: a value the Parquet or JSON writer cannot write fails here.
      for (const { format, runtime } of runtimes)
        await runtime.stop().catch((err: Error) => (stopErrors[format] = err.message));
    }
  }, 900_000);

  afterAll(async () => {
    await kafka?.stop();
  }, 120_000);

  const payloads = (records: EnvelopeRecord[]) => records.map((r) => byForm(r).value.payload);

  it.each([
    [TOPIC, TOTAL],
    [FLAT_TOPIC, FLAT_TOTAL],
  ])(
    "%s: every record's value schema and payload are Debezium's, integers beyond ±2^53 exactly",
    (topic, n) => {
      expect(debezium[topic]!.length).toBe(n);
      expect(payloads(local[topic]!)).toEqual(payloads(debezium[topic]!));
      expect(local[topic]!.map((r) => r.value.schema)).toEqual(debezium[topic]!.map((r) => r.value.schema));
    },
  );

  it("Debezium's values: the snapshot rows' ids, values and arrays as written, the defaults in schema and rows", () => {
    const all = payloads(debezium[TOPIC]!) as { [key: string]: Json }[];
    expect(all.slice(0, VALUES.length).map((r) => [r.id, r.v, r.arr, r.d, r.dn])).toEqual(
      VALUES.map((t) => [exact(t), exact(t), [exact(t), null], 9223372036854775807n, -9007199254740993n]),
    );
    const schema = debezium[TOPIC]![0]!.value.schema as { fields: { field: string; default?: Json }[] };
    expect(schema.fields.filter((f) => f.default !== undefined).map((f) => [f.field, f.default])).toEqual([
      ["d", 9223372036854775807n],
      ["dn", -9007199254740993n],
    ]);
    // A delete's key-only before-image: the exact key, the NOT NULL columns' defaults.
    const deleted = all.filter((r) => r.__deleted === "true");
    expect(deleted.map((r) => [r.id, r.v, r.d])).toEqual([
      [9223372036854775807n, null, 9223372036854775807n],
      [-9223372036854775808n, null, 9223372036854775807n],
      [9007199254740993n, null, 9223372036854775807n],
      [1433333333333333333n, null, 9223372036854775807n],
    ]);
  });

  it("Debezium's intervals: the double's long, exact beyond ±2^53 µs, saturated past ±2^63 µs", () => {
    const flat = payloads(debezium[FLAT_TOPIC]!) as { [key: string]: Json }[];
    expect(flat.slice(0, INTERVALS.length).map((r) => r.iv)).toEqual([
      93784500000,
      9467280000000000n,
      1262304000123456768n,
      -1262304000123456768n,
      9223372036854775807n,
      -9223372036854775808n,
      9223372036854775807n,
      -500000,
    ]);
  });

  it.each([
    [TOPIC, ["id", "v", "arr", "d", "dn"], "BIGINT BIGINT BIGINT[] BIGINT BIGINT", 9223372036854775807n],
    [FLAT_TOPIC, ["id", "d", "iv"], "BIGINT BIGINT BIGINT", -9223372036854775808n],
  ])(
    "%s's Parquet files: BIGINT columns holding Debezium's digits, the Avro schema's default of d exact",
    async (topic, columns, types, dDefault) => {
      expect(stopErrors.parquet).toBeUndefined();
      const read = await parquetRows(topicFiles(parquetBucket, topic), columns);
      expect(read.types).toEqual([types]);
      const expected = (payloads(debezium[topic]!) as { [key: string]: Json }[]).map((r) =>
        columns.map((c) => duckText(r[c]!)),
      );
      expect(read.rows).toEqual(expected);
      const avro = parseExactJson(read.avro[0]!) as {
        fields: { name: string; default?: Json; type: Json }[];
      };
      const d = avro.fields.find((f) => f.name === "d")!;
      expect([d.default, (d.type as { [key: string]: Json })["connect.default"]]).toEqual([
        dDefault,
        dDefault,
      ]);
    },
  );

  it.each([TOPIC, FLAT_TOPIC])(
    "%s's JsonFormat files: each line is Debezium's payload, integers beyond ±2^53 exactly",
    (topic) => {
      expect(stopErrors.json).toBeUndefined();
      const lines = topicFiles(jsonBucket, topic).flatMap((file) =>
        readFileSync(file, "utf8").split("\n").filter(Boolean),
      );
      const fromFiles = lines.map((line, offset) =>
        byForm({ topic, offset, value: { schema: null, payload: parseExactJson(line) } }),
      );
      expect(fromFiles.map((r) => r.value.payload)).toEqual(payloads(debezium[topic]!));
    },
  );
});
