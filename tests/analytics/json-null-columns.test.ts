// JsonFormat change files carry no schema: a column that is null in every record of one file must not
// make DuckDB read it as JSON there (and fail on the files where it holds text). Real Debezium records
// of commerce.type_zoo (every PostgreSQL type the fixtures cover), in both decimal formats.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { encodingsFromAvroSchema } from "../../analytics/src/decode/avro";
import type { ColumnEncoding, TableSpec } from "../../analytics/src/job";
import { REPO_ROOT } from "./cli/cli-helpers";
import { SourceBucket, query, run, tempDir } from "./helpers/fixtures";

const FIXTURES = path.join(REPO_ROOT, "tests", "fixtures", "debezium");
const TABLE = "commerce.type_zoo";

/** The table's encodings, from the Connect schema the fixture records were written with. */
function typeZooEncodings(): Record<string, ColumnEncoding> {
  const fixture = JSON.parse(readFileSync(path.join(FIXTURES, "cdc.commerce.type_zoo.json"), "utf8")) as {
    schemas: { fields: { field: string; name?: string; parameters?: Record<string, string> }[] }[];
  };
  const fields = fixture.schemas[0]!.fields.map((f) => ({
    name: f.field,
    type: { type: "string", "connect.name": f.name, "connect.parameters": f.parameters },
  }));
  const encodings = encodingsFromAvroSchema(JSON.stringify({ type: "record", name: "v", fields }));
  // DuckDB's DECIMAL stops at precision 38: such columns stay as delivered.
  return Object.fromEntries([...encodings].filter(([, e]) => !/^decimal\((39|[4-9]\d)/.test(e)));
}

const SPEC: TableSpec = { table: TABLE, columnTypes: typeZooEncodings() };
/** Files with nulled columns in the first test. */
const FILES = 8;

function records(format: "NUMERIC" | "BASE64"): Record<string, unknown>[] {
  const file = path.join(FIXTURES, "json-format", `cdc.commerce.type_zoo.${format}.jsonl`);
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const lines = (rows: readonly Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r));

/** Every output row as text per column, keyed by `<id>@<lsn>`; ids above 1000 are mapped back by `id % 1000`. */
async function outputByVersion(output: string, columns: readonly string[]) {
  const rows = await query(
    `SELECT ${columns.map((c) => `CAST("${c}" AS VARCHAR) AS "${c}"`).join(", ")}, id, __lsn
     FROM read_parquet('${output}/type_zoo/**/*.parquet', union_by_name = true)`,
  );
  return rows.map((r) => ({
    version: `${Number(r.id) % 1000}@${String(r.__lsn)}`,
    id: Number(r.id),
    row: r,
  }));
}

describe.each(["NUMERIC", "BASE64"] as const)("JsonFormat files (json.decimal.format=%s)", (format) => {
  const original = records(format);
  const columns = Object.keys(original[0]!).filter((c) => c !== "id" && !c.startsWith("__"));

  it("read with the table's column types when each column in turn is null in every record of one file", async () => {
    // Baseline: the records as Debezium wrote them.
    const plain = await SourceBucket.create();
    await plain.json(TABLE, 0, 0, lines(original));
    const baselineOut = await tempDir("scd2-json-base-");
    await run(plain.root, baselineOut, { tables: [SPEC] });
    const baseline = new Map(
      (await outputByVersion(baselineOut, columns)).map((v) => [v.version, v.row] as const),
    );
    expect(baseline.size).toBeGreaterThan(0);

    // Files holding the same records under other keys: file k has every column i with i % FILES = k
    // null in all its records, so each column in turn is all-null in one file and holds values in the others.
    const source = await SourceBucket.create();
    await source.json(TABLE, 0, 0, lines(original));
    const nulledIn = (file: number) => columns.filter((_, i) => i % FILES === file);
    for (let file = 0; file < FILES; file += 1) {
      const nulls = Object.fromEntries(nulledIn(file).map((c) => [c, null]));
      const nulled = original.map((r) => ({ ...r, id: 1000 * (file + 1) + Number(r.id), ...nulls }));
      await source.json(TABLE, 0, original.length * (file + 1), lines(nulled));
    }
    const output = await tempDir("scd2-json-nulls-");
    const summary = await run(source.root, output, { tables: [SPEC] });
    expect(summary.tables[0]!.files).toBe(FILES + 1);

    const versions = await outputByVersion(output, columns);
    for (const { version, id, row } of versions) {
      const base = baseline.get(version);
      expect(base, `version ${version} of key ${id}`).toBeDefined();
      const nulled = id >= 1000 ? nulledIn(Math.floor(id / 1000) - 1) : [];
      for (const column of columns) {
        const expected = nulled.includes(column) ? null : base![column];
        expect(row[column], `${column} of key ${id}`).toEqual(expected);
      }
    }
    // Every file produced versions of its keys.
    for (let file = 0; file < FILES; file += 1) {
      expect(versions.some((v) => Math.floor(v.id / 1000) === file + 1)).toBe(true);
    }
  });

  it("reads times as PostgreSQL wrote them, its end of day 24:00:00 included", async () => {
    const source = await SourceBucket.create();
    await source.json(TABLE, 0, 0, lines(original));
    const output = await tempDir("scd2-json-times-");
    await run(source.root, output, { tables: [SPEC] });
    // Debezium wrote 24:00:00 as 86,400,000,000 µs (time) and 86,400,000 ms (time(3)): a whole day, which
    // must not wrap to 00:00:00.
    const times = await query(
      `SELECT DISTINCT CAST(c_time AS VARCHAR) AS c_time, CAST(c_time3 AS VARCHAR) AS c_time3
       FROM read_parquet('${output}/type_zoo/**/*.parquet') ORDER BY ALL`,
    );
    expect(times).toEqual([
      { c_time: "13:45:00.123456", c_time3: "13:45:00.5" },
      { c_time: "24:00:00", c_time3: "24:00:00" },
      { c_time: null, c_time3: null },
    ]);
  });

  it("an incremental file whose every column is null reads them with the stored types", async () => {
    const source = await SourceBucket.create();
    await source.json(TABLE, 0, 0, lines(original));
    const output = await tempDir("scd2-json-stored-");
    await run(source.root, output, { tables: [SPEC] });
    const before = await query(`DESCRIBE SELECT * FROM read_parquet('${output}/type_zoo/current/*.parquet')`);
    const allNull = original.map((r) => ({
      ...Object.fromEntries(columns.map((c) => [c, null])),
      ...Object.fromEntries(Object.entries(r).filter(([c]) => c === "id" || c.startsWith("__"))),
      id: 5000 + Number(r.id),
      __lsn: Number(r.__lsn) + 1_000_000,
    }));
    await source.json(TABLE, 0, original.length, lines(allNull));
    const summary = await run(source.root, output, { tables: [SPEC] });
    expect(summary.tables[0]).toMatchObject({ files: 1 });
    const after = await query(`DESCRIBE SELECT * FROM read_parquet('${output}/type_zoo/current/*.parquet')`);
    expect(after.map((c) => [c.column_name, c.column_type])).toEqual(
      before.map((c) => [c.column_name, c.column_type]),
    );
  });
});

describe("a JSON column that is null in every record the table has seen", () => {
  it("is left out until a value shows its type, then added as that type", async () => {
    const spec: TableSpec = { table: "commerce.products" };
    const meta = (op: string, lsn: number) => ({ __op: op, __lsn: lsn, __source_ts_ms: 1709251200000 + lsn });
    const source = await SourceBucket.create();
    await source.json("commerce.products", 0, 0, [JSON.stringify({ id: 1, note: null, ...meta("c", 1) })]);
    const output = await tempDir("scd2-json-late-type-");
    await run(source.root, output, { tables: [spec] });
    const columnsOf = async () =>
      (await query(`DESCRIBE SELECT * FROM read_parquet('${output}/products/current/*.parquet')`))
        .map((c) => `${String(c.column_name)} ${String(c.column_type)}`)
        .filter((c) => !c.startsWith("__") && !c.startsWith("effective") && !c.startsWith("is_"));
    expect(await columnsOf()).toEqual(["id BIGINT"]);
    await source.json("commerce.products", 0, 1, [JSON.stringify({ id: 1, note: "text", ...meta("u", 2) })]);
    await run(source.root, output, { tables: [spec] });
    expect(await columnsOf()).toEqual(["id BIGINT", "note VARCHAR"]);
    const rows = await query(
      `SELECT id, note FROM read_parquet('${output}/products/**/*.parquet', union_by_name = true) ORDER BY __lsn`,
    );
    expect(rows).toEqual([
      { id: "1", note: null },
      { id: "1", note: "text" },
    ]);
  });
});

describe("NUMERIC decimals in JSON beyond a double's 15 digits", () => {
  const spec: TableSpec = { table: "commerce.products", columnTypes: { price: "decimal(38,2)" } };
  const line = (id: number, lsn: number, price: string, extra = "") =>
    `{"id":${id},${extra}"price":${price},"__op":"c","__lsn":${lsn},"__source_ts_ms":${1709251200000 + lsn}}`;

  it("keep every digit", async () => {
    const prices = [
      "123456789012345678901234567890123456.78",
      "-99999999999999999999.99",
      "12345678901234567.89",
      "0.01",
      "1E+3",
      "null",
    ];
    const source = await SourceBucket.create();
    await source.json("commerce.products", 0, 0, [
      ...prices.map((p, i) => line(i + 1, i + 1, p)),
      // A nested member of the same name after the top-level one does not mislead it.
      line(7, 7, "98765432109876543210.12", "").replace('"__op"', '"dims":{"price":1.5},"__op"'),
    ]);
    const output = await tempDir("scd2-json-exact-");
    await run(source.root, output, { tables: [spec] });
    const rows = await query(
      `SELECT CAST(price AS VARCHAR) AS price FROM read_parquet('${output}/products/**/*.parquet') ORDER BY id`,
    );
    expect(rows.map((r) => r.price)).toEqual([
      "123456789012345678901234567890123456.78",
      "-99999999999999999999.99",
      "12345678901234567.89",
      "0.01",
      "1000.00",
      null,
      "98765432109876543210.12",
    ]);
  });

  it("a value whose exact text cannot be told apart fails naming the column and file", async () => {
    const source = await SourceBucket.create();
    // The nested member comes first: its text does not parse to the value DuckDB read, so no guess.
    await source.json("commerce.products", 0, 0, [
      `{"id":1,"dims":{"price":1.5},"price":12345678901234567890.12,"__op":"c","__lsn":1,"__source_ts_ms":1709251200001}`,
    ]);
    const output = await tempDir("scd2-json-exact-");
    await expect(run(source.root, output, { tables: [spec] })).rejects.toThrow(
      /column price in cdc\.commerce\.products\/partition=0\/cdc\.commerce\.products\+0\+0000000000\.json: cannot find the exact text of the number/,
    );
  });
});
