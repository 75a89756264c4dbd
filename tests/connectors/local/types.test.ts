/** data-contract.md §3: PostgreSQL types → Connect types → what the files hold, per converter mode. */
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

/**
 * Types beyond data-contract.md §3, as Debezium 3.x maps them (PostgresValueConverter): one row
 * taken by the snapshot, one streamed. `read` is the DuckDB expression the value is read back with.
 */
interface SpecialCase {
  column: string;
  type: string;
  snapshot: string;
  streamed: string;
  read?: string;
  expected: [unknown, unknown];
  duckdb: string;
  connectName: string | undefined;
}
const POINT_1_5_MINUS_2_25 = "0101000000000000000000F83F00000000000002C0";
const SPECIAL: SpecialCase[] = [
  {
    column: "tz",
    type: "timetz",
    snapshot: "'13:45:00.5+02'",
    streamed: "'23:30:00-01:30'",
    expected: ["11:45:00.5Z", "01:00:00Z"],
    duckdb: "VARCHAR",
    connectName: "io.debezium.time.ZonedTime",
  },
  {
    column: "cash",
    type: "money",
    snapshot: "1234.5",
    streamed: "-0.07",
    expected: [1234.5, -0.07],
    duckdb: "DOUBLE",
    connectName: "org.apache.kafka.connect.data.Decimal",
  },
  {
    column: "wide",
    type: "numeric(40,2)",
    snapshot: "1.5",
    streamed: "-2",
    expected: [1.5, -2],
    duckdb: "DOUBLE",
    connectName: "org.apache.kafka.connect.data.Decimal",
  },
  {
    column: "b1",
    type: "bit(1)",
    snapshot: "B'1'",
    streamed: "B'0'",
    expected: [true, false],
    duckdb: "BOOLEAN",
    connectName: undefined,
  },
  {
    column: "b16",
    type: "bit(16)",
    snapshot: "B'1000000000000001'",
    streamed: "B'0000000000000101'",
    read: "hex(b16)",
    expected: ["0180", "05"],
    duckdb: "BLOB",
    connectName: "io.debezium.data.Bits",
  },
  {
    column: "vb",
    type: "varbit",
    snapshot: "B'101'",
    streamed: "B'000'",
    read: "hex(vb)",
    expected: ["05", ""],
    duckdb: "BLOB",
    connectName: "io.debezium.data.Bits",
  },
  {
    column: "kv",
    type: "hstore",
    snapshot: `'b=>NULL, q=>"say \\"hi\\"", aa=>1'`,
    streamed: "''",
    expected: ['{"aa":"1","q":"say \\"hi\\"","b":null}', "{}"],
    duckdb: "VARCHAR",
    connectName: "io.debezium.data.Json",
  },
  {
    column: "path",
    type: "ltree",
    snapshot: "'Top.Science.Astronomy'",
    streamed: "'Top'",
    expected: ["Top.Science.Astronomy", "Top"],
    duckdb: "VARCHAR",
    connectName: "io.debezium.data.Ltree",
  },
  {
    column: "ir",
    type: "int4range",
    snapshot: "'[1,10]'",
    streamed: "'empty'",
    expected: ["[1,11)", "empty"],
    duckdb: "VARCHAR",
    connectName: undefined,
  },
  {
    column: "tr",
    type: "tstzrange",
    snapshot: "'[2024-03-01 12:00+02,)'",
    streamed: "'(,2024-03-01 00:00:00.5+00]'",
    expected: ['["2024-03-01 10:00:00+00",)', '(,"2024-03-01 00:00:00.5+00"]'],
    duckdb: "VARCHAR",
    connectName: undefined,
  },
  {
    column: "doc",
    type: "tsvector",
    snapshot: "'a fat cat'",
    streamed: "'b:2A'",
    expected: ["'a' 'cat' 'fat'", "'b':2A"],
    duckdb: "VARCHAR",
    connectName: "io.debezium.data.Tsvector",
  },
  {
    column: "pt",
    type: "point",
    snapshot: "'(1.5,-2.25)'",
    streamed: "point(0, 0.5)",
    read: "struct_pack(x := pt.x, y := pt.y, wkb := hex(pt.wkb), srid := pt.srid)",
    expected: [
      { x: 1.5, y: -2.25, wkb: POINT_1_5_MINUS_2_25, srid: null },
      { x: 0, y: 0.5, wkb: "01010000000000000000000000000000000000E03F", srid: null },
    ],
    duckdb: "STRUCT(x DOUBLE, y DOUBLE, wkb BLOB, srid INTEGER)",
    connectName: "io.debezium.data.geometry.Point",
  },
];
/** Arrays Debezium does not map (PostgresValueConverter returns no schema): skipped columns. */
const SKIPPED_ARRAYS = "cashes money[], pts point[], spans interval[]";

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

  it("PostgreSQL's end of day, time 24:00:00, stays 24:00:00 in the Parquet files in either time mode", async () => {
    const capture = async (table: string, mode: string) => {
      await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, t time, t3 time(3))`);
      await h.db.query(
        `INSERT INTO ${table} VALUES (1, '24:00:00', '24:00:00'), (2, '00:00:00', '23:59:59.999')`,
      );
      const setup = await captureSetup(h, [table], { source: { "time.precision.mode": mode } });
      const runtime = await runtimeFor(setup);
      await runtime.stop();
      return (await readParquet(topicFiles(setup.bucketRoot, `cdc.${table}`), "id, t, t3")).rows;
    };
    // connect: Connect's Time (milliseconds), a Parquet TIME.
    expect(await capture("public.times_connect", "connect")).toEqual([
      { id: 1, t: "24:00:00", t3: "24:00:00" },
      { id: 2, t: "00:00:00", t3: "23:59:59.999" },
    ]);
    // adaptive: MicroTime and Time, integers of a whole day (the SCD2 job turns them into 24:00:00).
    expect(await capture("public.times_adaptive", "adaptive")).toEqual([
      { id: 1, t: "86400000000", t3: 86400000 },
      { id: 2, t: "0", t3: 86399999 },
    ]);
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
  /** A table of the SPECIAL columns (plus `extra`): row 1 snapshotted, row 2 streamed. */
  async function specialCapture(table: string, overrides: Parameters<typeof captureSetup>[2] = {}) {
    await h.db.query("CREATE EXTENSION IF NOT EXISTS hstore; CREATE EXTENSION IF NOT EXISTS ltree");
    const columns = SPECIAL.map((c) => `${c.column} ${c.type}`).join(", ");
    await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, ${columns}, ${SKIPPED_ARRAYS})`);
    const insert = (id: number, pick: "snapshot" | "streamed") =>
      h.db.query(`INSERT INTO ${table} VALUES (${id}, ${SPECIAL.map((c) => c[pick]).join(", ")})`);
    await insert(1, "snapshot");
    const setup = await captureSetup(h, [table], overrides);
    const runtime = await runtimeFor(setup);
    await insert(2, "streamed");
    await waitFor(() => runtime.stats().transactions >= 1);
    await runtime.stop();
    return topicFiles(setup.bucketRoot, `cdc.${table}`);
  }

  it("money, bit/varbit, hstore, ltree, ranges, tsvector, point, timetz: snapshot and stream, DuckDB types, connect.name", async () => {
    const files = await specialCapture("public.special_default");
    expect(files).toHaveLength(1);
    const { rows, schemas } = await readParquet(
      files,
      ["__op", ...SPECIAL.map((c) => `${c.read ?? c.column} AS ${c.column}`)].join(", "),
    );
    for (const c of SPECIAL) {
      expect([c.column, rows.map((r) => r[c.column])]).toEqual([c.column, c.expected]);
    }
    expect(rows.map((r) => r.__op)).toEqual(["r", "c"]);
    const types = await parquetColumnTypes(files[0]!);
    expect(SPECIAL.map((c) => [c.column, types[c.column]])).toEqual(SPECIAL.map((c) => [c.column, c.duckdb]));
    expect(Object.keys(types)).not.toContain("cashes");
    expect(Object.keys(types)).not.toContain("pts");
    expect(Object.keys(types)).not.toContain("spans");
    const fields = (schemas[0] as { fields: { name: string; type: unknown[] }[] }).fields;
    const avro = (name: string): Record<string, unknown> =>
      fields.find((f) => f.name === name)!.type[1] as Record<string, unknown>;
    expect(SPECIAL.map((c) => [c.column, avro(c.column)["connect.name"]])).toEqual(
      SPECIAL.map((c) => [c.column, c.connectName]),
    );
    expect(avro("cash")).toEqual({
      type: "bytes",
      scale: 2,
      precision: 64,
      "connect.version": 1,
      "connect.parameters": { scale: "2" },
      "connect.name": "org.apache.kafka.connect.data.Decimal",
      logicalType: "decimal",
    });
    expect(avro("wide")).toMatchObject({ type: "bytes", scale: 2, precision: 40, logicalType: "decimal" });
    expect(avro("vb")["connect.parameters"]).toEqual({ length: "2147483647" });
    expect(avro("b16")["connect.parameters"]).toEqual({ length: "16" });
    expect(avro("pt")).toMatchObject({
      type: "record",
      name: "Point",
      namespace: "io.debezium.data.geometry",
    });
  });

  it("JsonFormat: exact money decimals (money.fraction.digits), bits and WKB as base64, hstore as JSON text", async () => {
    const [file] = await specialCapture("public.special_json", {
      source: { "money.fraction.digits": "3" },
      sink: {
        "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
        "json.decimal.format": "NUMERIC",
      },
    });
    const lines = readFileSync(file!, "utf8").trimEnd().split("\n");
    // Jackson prints doubles as Java does: a whole one keeps its ".0".
    expect(lines[1]).toContain(`"pt":{"x":0.0,"y":0.5,"wkb":"AQEAAAAAAAAAAAAAAAAAAAAAAOA/","srid":null}`);
    expect(lines[1]).toContain(`"wide":-2.00,`);
    const pick = (line: string): string => {
      const row = JSON.parse(line.replace(/"cash":(-?[\d.]+)/, '"cash":"$1"')) as Record<string, unknown>;
      return JSON.stringify([row.cash, row.b16, row.vb, row.kv, row.pt, row.tz]);
    };
    expect(lines.map(pick)).toEqual([
      JSON.stringify([
        "1234.500",
        "AYA=",
        "BQ==",
        '{"aa":"1","q":"say \\"hi\\"","b":null}',
        { x: 1.5, y: -2.25, wkb: Buffer.from(POINT_1_5_MINUS_2_25, "hex").toString("base64"), srid: null },
        "11:45:00.5Z",
      ]),
      JSON.stringify([
        "-0.070",
        "BQ==",
        "",
        "{}",
        { x: 0, y: 0.5, wkb: "AQEAAAAAAAAAAAAAAAAAAAAAAOA/", srid: null },
        "01:00:00Z",
      ]),
    ]);
  });

  it("money in string and double mode (the snapshot reads it as the stream does), hstore.handling.mode=map", async () => {
    for (const [mode, table] of [
      ["string", "public.money_string"],
      ["double", "public.money_double"],
    ] as const) {
      await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, cash money)`);
      await h.db.query(`INSERT INTO ${table} VALUES (1, 10000000), (2, 1234.5)`);
      const setup = await captureSetup(h, [table], { source: { "decimal.handling.mode": mode } });
      const runtime = await runtimeFor(setup);
      await h.db.query(`INSERT INTO ${table} VALUES (3, 10000000), (4, -1234.5)`);
      await waitFor(() => runtime.stats().transactions >= 1);
      await runtime.stop();
      const files = topicFiles(setup.bucketRoot, `cdc.${table}`);
      expect((await readParquet(files, "cash")).rows.map((r) => r.cash)).toEqual(
        mode === "string"
          ? ["10000000.00", "1234.50", "10000000.00", "-1234.50"]
          : [10000000, 1234.5, 10000000, -1234.5],
      );
      expect((await parquetColumnTypes(files[0]!)).cash).toBe(mode === "string" ? "VARCHAR" : "DOUBLE");
    }
    const [file] = await specialCapture("public.special_map", { source: { "hstore.handling.mode": "map" } });
    const { rows, schemas } = await readParquet([file!], "map_keys(kv) AS k, map_values(kv) AS v");
    expect(rows).toEqual([
      { k: ["aa", "q", "b"], v: ["1", 'say "hi"', null] },
      { k: [], v: [] },
    ]);
    expect((await parquetColumnTypes(file!)).kv).toBe("MAP(VARCHAR, VARCHAR)");
    const kv = (schemas[0] as { fields: { name: string; type: unknown }[] }).fields.find(
      (f) => f.name === "kv",
    );
    expect(kv!.type).toEqual(["null", { type: "map", values: ["null", "string"] }]);
  });
});
