import { DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { encodingsFromAvroSchema } from "../../analytics/src/decode/avro";
import { DECODE_MACROS, decodeExpression, placeholderTest } from "../../analytics/src/decode/columns";
import type { ColumnEncoding } from "../../analytics/src/job";

async function evaluate(expression: string, value: string, type: string): Promise<unknown> {
  const db = await DuckDBInstance.create(":memory:");
  const connection = await db.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    await connection.run(DECODE_MACROS);
    const reader = await connection.runAndReadAll(
      `SELECT ${expression} AS v FROM (SELECT CAST(${value} AS ${type}) AS c)`,
    );
    return reader.getRowObjectsJson()[0]?.v;
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

describe("decodeExpression", () => {
  const cases: { encoding: ColumnEncoding | undefined; type: string; value: string; expected: unknown }[] = [
    {
      encoding: "micro-timestamp",
      type: "BIGINT",
      value: "1709251200123456",
      expected: "2024-03-01 00:00:00.123456",
    },
    {
      encoding: "milli-timestamp",
      type: "BIGINT",
      value: "1709251200123",
      expected: "2024-03-01 00:00:00.123",
    },
    {
      encoding: "nano-timestamp",
      type: "BIGINT",
      value: "1709251200123456789",
      expected: "2024-03-01 00:00:00.123456",
    },
    {
      encoding: "micro-timestamp",
      type: "TIMESTAMP",
      value: "'2024-03-01 01:02:03'",
      expected: "2024-03-01 01:02:03",
    },
    {
      encoding: "zoned-timestamp",
      type: "VARCHAR",
      value: "'2024-03-01T10:00:00.5Z'",
      expected: "2024-03-01 10:00:00.5+00",
    },
    { encoding: "zoned-timestamp", type: "VARCHAR", value: "NULL", expected: null },
    { encoding: "date", type: "INTEGER", value: "19783", expected: "2024-03-01" },
    { encoding: "date", type: "DATE", value: "'2024-03-01'", expected: "2024-03-01" },
    { encoding: "micro-time", type: "BIGINT", value: "3723000001", expected: "01:02:03.000001" },
    { encoding: "milli-time", type: "INTEGER", value: "3723001", expected: "01:02:03.001" },
    { encoding: "nano-time", type: "BIGINT", value: "3723000001000", expected: "01:02:03.000001" },
    // PostgreSQL's time runs to 24:00:00, which Debezium delivers as a whole day; it must not wrap to 00:00.
    { encoding: "micro-time", type: "BIGINT", value: "0", expected: "00:00:00" },
    { encoding: "micro-time", type: "BIGINT", value: "86399999999", expected: "23:59:59.999999" },
    { encoding: "micro-time", type: "BIGINT", value: "86400000000", expected: "24:00:00" },
    { encoding: "milli-time", type: "INTEGER", value: "86400000", expected: "24:00:00" },
    { encoding: "nano-time", type: "BIGINT", value: "86400000000000", expected: "24:00:00" },
    { encoding: "micro-time", type: "BIGINT", value: "NULL", expected: null },
    { encoding: "micro-duration", type: "BIGINT", value: "90000000", expected: "90000000" },
    { encoding: "micro-duration", type: "BIGINT", value: "-5000000", expected: "-5000000" },
    // 1 year as Debezium counts it (365.25 days): past what Parquet's INTERVAL milliseconds hold.
    { encoding: "micro-duration", type: "BIGINT", value: "31557600000000", expected: "31557600000000" },
    { encoding: "decimal(10,2)", type: "BLOB", value: "'\\x04\\xE2'", expected: "12.50" },
    { encoding: "decimal(10,2)", type: "BLOB", value: "'\\xFF\\x38'", expected: "-2.00" },
    { encoding: "decimal(10,2)", type: "JSON", value: `'"BOI="'`, expected: "12.50" },
    { encoding: "decimal(10,2)", type: "JSON", value: "'4E+1'", expected: "40.00" },
    { encoding: "decimal(10,2)", type: "DECIMAL(10,2)", value: "12.5", expected: "12.50" },
    {
      encoding: "decimal(38,0)",
      type: "BLOB",
      value: "'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'",
      expected: "18446744073709551616",
    },
    {
      encoding: "variable-scale-decimal",
      type: "STRUCT(scale INTEGER, value BLOB)",
      value: "{'scale': 3, 'value': '\\x30\\x39'::BLOB}",
      expected: 12.345,
    },
    {
      encoding: "variable-scale-decimal",
      type: "STRUCT(scale INTEGER, value VARCHAR)",
      value: "{'scale': 1, 'value': 'MDk='}",
      expected: 1234.5,
    },
    { encoding: undefined, type: "BIGINT", value: "42", expected: "42" },
    { encoding: "as-is", type: "BIGINT", value: "42", expected: "42" },
  ];
  for (const c of cases) {
    it(`${c.encoding ?? "no encoding"} from ${c.type} ${c.value}`, async () => {
      expect(await evaluate(decodeExpression("c", c.type, c.encoding), c.value, c.type)).toEqual(c.expected);
    });
  }

  // Years outside 0001–9999 as Debezium writes them: a sign past 9999, ISO years before 1 (0000 is
  // 1 BC). Compared as DuckDB's own text: the client's formatting of years BC differs.
  it.each([
    ["+10000-01-01T00:00:00Z", "10000-01-01 00:00:00+00"],
    ["+200000-06-15T12:00:00.000001Z", "200000-06-15 12:00:00.000001+00"],
    ["0000-12-31T23:59:59.999999Z", "0001-12-31 (BC) 23:59:59.999999+00"],
    ["-0043-03-15T12:00:00.5Z", "0044-03-15 (BC) 12:00:00.5+00"],
    ["-4713-11-24T00:00:00Z", "4714-11-24 (BC) 00:00:00+00"],
    ["infinity", "infinity"],
    ["-infinity", "-infinity"],
  ])("zoned-timestamp from VARCHAR %s", async (text, expected) => {
    const expression = `CAST(${decodeExpression("c", "VARCHAR", "zoned-timestamp")} AS VARCHAR)`;
    expect(await evaluate(expression, `'${text}'`, "VARCHAR")).toBe(expected);
  });

  it.each(["+294276-12-31T23:59:59.999999Z", "+294247-01-11T00:00:00Z"])(
    "names the column, the file and the value of a zoned timestamp DuckDB cannot hold: %s",
    async (text) => {
      const expression = decodeExpression("c", "VARCHAR", "zoned-timestamp", "'topics/t/f.json'");
      await expect(evaluate(expression, `'${text}'`, "VARCHAR")).rejects.toThrow(
        `column c in topics/t/f.json: the timestamp ${text} cannot be read as TIMESTAMPTZ (DuckDB holds times up to 294247-01-10)`,
      );
    },
  );

  it.each([
    ["micro-time", "BIGINT", "86400000001", "86400000001"],
    ["micro-time", "BIGINT", "-1", "-1"],
    ["milli-time", "INTEGER", "86400001", "86400001000"],
    ["nano-time", "BIGINT", "-1", "-1"],
  ] as const)(
    "names the column, the file and the value of a %s of %s outside a day: %s",
    async (encoding, type, value, micros) => {
      const expression = decodeExpression("c", type, encoding, "'topics/t/f.parquet'");
      await expect(evaluate(expression, value, type)).rejects.toThrow(
        `column c in topics/t/f.parquet: the time of day ${micros} µs is outside 00:00:00 to 24:00:00`,
      );
    },
  );

  it.each([
    ["micro-timestamp", "VARCHAR"],
    ["zoned-timestamp", "BIGINT"],
    ["decimal(10,2)", "BOOLEAN"],
    ["variable-scale-decimal", "DOUBLE"],
    ["decimal(40,2)", "BLOB"],
  ] as const)("refuses %s on a %s column", (encoding, type) => {
    expect(() => decodeExpression("c", type, encoding as ColumnEncoding)).toThrow(
      /cannot decode|not a valid DECIMAL/,
    );
  });
});

describe("placeholderTest", () => {
  it.each([
    ["VARCHAR", "'__debezium_unavailable_value'", true],
    ["VARCHAR", "'X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=='", true],
    ["VARCHAR", "'real text'", false],
    ["VARCHAR", "NULL", false],
    ["BLOB", "'__debezium_unavailable_value'", true],
    ["VARCHAR[]", "['__debezium_unavailable_value']", true],
    ["VARCHAR[]", "['__debezium_unavailable_value', 'x']", false],
  ] as const)("%s %s -> %s", async (type, value, expected) => {
    expect(await evaluate(placeholderTest("c", type) as string, value, type)).toBe(expected);
  });

  it("has no test for types that cannot carry the placeholder", () => {
    expect(placeholderTest("c", "INTEGER")).toBeUndefined();
  });
});

describe("encodingsFromAvroSchema", () => {
  const field = (name: string, type: unknown) => ({ name, type });
  const schema = (...fields: unknown[]) => JSON.stringify({ type: "record", name: "Value", fields });

  it("reads connect.name through optional unions, with decimal parameters", () => {
    const text = schema(
      field("id", "int"),
      field("ts", { type: "long", "connect.name": "io.debezium.time.MicroTimestamp" }),
      field("tz", ["null", { type: "string", "connect.name": "io.debezium.time.ZonedTimestamp" }]),
      field("day", { type: "int", "connect.name": "io.debezium.time.Date" }),
      field("ms", { type: "long", "connect.name": "io.debezium.time.Timestamp" }),
      field("t", { type: "long", "connect.name": "io.debezium.time.MicroTime" }),
      field("price", {
        type: "bytes",
        "connect.name": "org.apache.kafka.connect.data.Decimal",
        "connect.parameters": { scale: "2", "connect.decimal.precision": "10" },
      }),
      field("amount", {
        type: "bytes",
        scale: 4,
        precision: 20,
        "connect.name": "org.apache.kafka.connect.data.Decimal",
      }),
      field("n", [
        "null",
        {
          type: "record",
          name: "VariableScaleDecimal",
          fields: [],
          "connect.name": "io.debezium.data.VariableScaleDecimal",
        },
      ]),
      field("doc", ["null", { type: "string", "connect.name": "io.debezium.data.Json" }]),
      field("uid", { type: "string", "connect.name": "io.debezium.data.Uuid" }),
    );
    expect(Object.fromEntries(encodingsFromAvroSchema(text))).toEqual({
      ts: "micro-timestamp",
      tz: "zoned-timestamp",
      day: "date",
      ms: "milli-timestamp",
      t: "micro-time",
      price: "decimal(10,2)",
      amount: "decimal(20,4)",
      n: "variable-scale-decimal",
    });
  });

  it.each([
    ["{not json", /is not JSON/],
    [JSON.stringify({ type: "string" }), /not an Avro record schema/],
    [JSON.stringify({ type: "record", fields: [{ type: "int" }] }), /not an Avro record schema/],
  ])("rejects %s", (text, message) => {
    expect(() => encodingsFromAvroSchema(text)).toThrow(message);
  });
});
