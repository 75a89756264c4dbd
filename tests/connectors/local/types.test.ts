/** cdc-contract.md §3: PostgreSQL types → Connect types → what the files hold, per converter mode. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  captureSetup,
  parquetColumnTypes,
  readParquet,
  runtimeFor,
  topicFiles,
  useHarness,
  waitFor,
} from "./harness";

const COLUMNS = `id int PRIMARY KEY, small int2, big int8, f4 float4, f8 float8, flag bool,
  n12 numeric(12,3), nvar numeric, tstz timestamptz, ts6 timestamp(6), ts3 timestamp(3), d date,
  t time, doc jsonb, uid uuid, raw bytea, ints int[], words text[], span interval, span_month interval`;
const VALUES = `1, 7, 9007199254740991, 1.5, 2.25, true, 1234.5, 3.14159, '2024-03-01 12:34:56.789+02',
  '2024-03-01 12:34:56.123456', '2024-03-01 12:34:56.789', '2024-03-01', '13:45:00.5', '{"a": 1}',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x0102ff', '{1,2,3}', '{"a","b c"}', '1 day 2 hours', '1 mon'`;

describe("type mapping", () => {
  const h = useHarness();

  async function snapshotOf(table: string, overrides: Parameters<typeof captureSetup>[2] = {}) {
    await h.db.query(`CREATE TABLE ${table} (${COLUMNS})`);
    await h.db.query(`INSERT INTO ${table} VALUES (${VALUES})`);
    const setup = await captureSetup(h, [table], overrides);
    const runtime = await runtimeFor(setup);
    await runtime.stop();
    return topicFiles(setup.bucketRoot, `cdc.${table}`);
  }

  it("defaults (precise, adaptive): values, DuckDB types and connect.name of every column", async () => {
    const [file] = await snapshotOf("public.types_default");
    const { rows, schemas } = await readParquet(
      [file!],
      "* EXCLUDE (nvar, raw), nvar.scale AS nvar_scale, hex(nvar.value) AS nvar_value, hex(raw) AS raw",
    );
    expect(rows[0]).toMatchObject({
      id: 1,
      small: 7,
      big: "9007199254740991",
      f4: 1.5,
      f8: 2.25,
      flag: true,
      n12: "1234.500",
      nvar_scale: 5,
      nvar_value: "04CB2F",
      tstz: "2024-03-01T10:34:56.789000Z",
      ts6: "1709296496123456",
      ts3: "1709296496789",
      d: 19783,
      t: "49500500000",
      doc: '{"a": 1}',
      uid: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
      raw: "0102FF",
      ints: [1, 2, 3],
      words: ["a", "b c"],
      span: "93600000000",
      span_month: "2629800000000",
    });
    expect(await parquetColumnTypes(file!)).toMatchObject({
      small: "INTEGER",
      big: "BIGINT",
      f4: "FLOAT",
      f8: "DOUBLE",
      flag: "BOOLEAN",
      n12: "DECIMAL(12,3)",
      nvar: 'STRUCT(scale INTEGER, "value" BLOB)',
      tstz: "VARCHAR",
      ts6: "BIGINT",
      ts3: "BIGINT",
      d: "INTEGER",
      t: "BIGINT",
      doc: "VARCHAR",
      uid: "VARCHAR",
      raw: "BLOB",
      ints: "INTEGER[]",
      words: "VARCHAR[]",
      span: "BIGINT",
    });
    const fields = (schemas[0] as { fields: { name: string; type: unknown }[] }).fields;
    const connectName = (name: string): unknown => {
      const type = fields.find((f) => f.name === name)!.type as unknown[];
      return (type[1] as Record<string, unknown>)["connect.name"];
    };
    expect(
      ["n12", "nvar", "tstz", "ts6", "ts3", "d", "t", "doc", "uid", "span"].map((c) => [c, connectName(c)]),
    ).toEqual([
      ["n12", "org.apache.kafka.connect.data.Decimal"],
      ["nvar", "io.debezium.data.VariableScaleDecimal"],
      ["tstz", "io.debezium.time.ZonedTimestamp"],
      ["ts6", "io.debezium.time.MicroTimestamp"],
      ["ts3", "io.debezium.time.Timestamp"],
      ["d", "io.debezium.time.Date"],
      ["t", "io.debezium.time.MicroTime"],
      ["doc", "io.debezium.data.Json"],
      ["uid", "io.debezium.data.Uuid"],
      ["span", "io.debezium.time.MicroDuration"],
    ]);
    expect(fields.find((f) => f.name === "small")!.type).toEqual([
      "null",
      { type: "int", "connect.type": "int16" },
    ]);
    expect(fields.find((f) => f.name === "ints")!.type).toEqual([
      "null",
      { type: "array", items: ["null", "int"] },
    ]);
  });

  it("a domain column is captured as its base type with the domain's modifier, in the snapshot and the stream", async () => {
    await h.db.query("CREATE DOMAIN public.price AS numeric(8,2)");
    await h.db.query("CREATE DOMAIN public.label AS varchar(20)");
    await h.db.query("CREATE TABLE public.domains (id int PRIMARY KEY, p public.price, l public.label)");
    await h.db.query("INSERT INTO public.domains VALUES (1, 1.5, 'one')");
    const setup = await captureSetup(h, ["public.domains"]);
    const runtime = await runtimeFor(setup);
    await h.db.query("INSERT INTO public.domains VALUES (2, 20, 'two')");
    await waitFor(() => runtime.stats().transactions >= 1);
    await runtime.stop();
    const files = topicFiles(setup.bucketRoot, "cdc.public.domains");
    expect(files).toHaveLength(1);
    expect((await readParquet(files, "id, p, l, __op")).rows).toEqual([
      { id: 1, p: "1.50", l: "one", __op: "r" },
      { id: 2, p: "20.00", l: "two", __op: "c" },
    ]);
    expect(await parquetColumnTypes(files[0]!)).toMatchObject({ p: "DECIMAL(8,2)", l: "VARCHAR" });
  });

  it("decimal.handling.mode=string/double and time.precision.mode=connect", async () => {
    const [asString] = await snapshotOf("public.types_string", {
      source: { "decimal.handling.mode": "string" },
    });
    const [asDouble] = await snapshotOf("public.types_double", {
      source: { "decimal.handling.mode": "double", "time.precision.mode": "connect" },
    });
    expect((await readParquet([asString!], "n12, nvar")).rows[0]).toEqual({
      n12: "1234.500",
      nvar: "3.14159",
    });
    expect((await readParquet([asDouble!], "n12, nvar, d, ts6, ts3, t")).rows[0]).toEqual({
      n12: 1234.5,
      nvar: 3.14159,
      d: "2024-03-01",
      ts6: "2024-03-01 12:34:56.123",
      ts3: "2024-03-01 12:34:56.789",
      t: "13:45:00.5",
    });
    expect(await parquetColumnTypes(asDouble!)).toMatchObject({ d: "DATE", ts6: "TIMESTAMP", t: "TIME" });
  });

  it("JsonFormat: one value per line; decimals NUMERIC or BASE64; bytes base64", async () => {
    const json = { "format.class": "io.confluent.connect.s3.format.json.JsonFormat" };
    const [numeric] = await snapshotOf("public.types_json_numeric", {
      sink: { ...json, "json.decimal.format": "NUMERIC" },
    });
    const [base64] = await snapshotOf("public.types_json_base64", { sink: json });
    expect(numeric!.endsWith("cdc.public.types_json_numeric+0+0000000000.json")).toBe(true);
    const line = readFileSync(numeric!, "utf8");
    // The metadata values come from the run; everything else is fixed by the mapping and JsonConverter.
    const meta = JSON.parse(line) as Record<string, number | string>;
    expect(line).toBe(
      '{"id":1,"small":7,"big":9007199254740991,"f4":1.5,"f8":2.25,"flag":true,"n12":1234.500,' +
        '"nvar":{"scale":5,"value":"BMsv"},"tstz":"2024-03-01T10:34:56.789000Z","ts6":1709296496123456,' +
        '"ts3":1709296496789,"d":19783,"t":49500500000,"doc":"{\\"a\\": 1}",' +
        '"uid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","raw":"AQL/","ints":[1,2,3],"words":["a","b c"],' +
        '"span":93600000000,"span_month":2629800000000,"__deleted":"false","__op":"r",' +
        `"__table":"types_json_numeric","__lsn":${meta.__lsn},"__txId":${meta.__txId},` +
        `"__source_ts_ms":${meta.__source_ts_ms},"__sequence":${JSON.stringify(meta.__sequence)}}\n`,
    );
    expect(meta.__sequence).toBe(JSON.stringify([null, String(meta.__lsn)]));
    const parsed = JSON.parse(readFileSync(base64!, "utf8")) as Record<string, unknown>;
    expect(parsed.n12).toBe("EtZE");
    expect(Object.keys(parsed).slice(-8)).toEqual([
      "span_month",
      "__deleted",
      "__op",
      "__table",
      "__lsn",
      "__txId",
      "__source_ts_ms",
      "__sequence",
    ]);
  });
});
