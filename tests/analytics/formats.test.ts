import * as fs from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { TableSpec } from "../../analytics/src/job";
import type { FixtureColumn } from "./helpers/fixtures";
import { SourceBucket, at, fileKey, query, run, tempDir } from "./helpers/fixtures";
import { PLACEHOLDER_TEXT } from "./helpers/placeholder";

const meta = (op: string, lsn: number, second: number) => ({
  __deleted: op === "d" ? "true" : "false",
  __op: op,
  __table: "products",
  __lsn: lsn,
  __txId: lsn + 1,
  __source_ts_ms: at(`2024-03-01T00:00:0${second}Z`),
  __sequence: `[null,"${lsn}"]`,
});

const JSON_TYPES: TableSpec = {
  table: "commerce.products",
  columnTypes: {
    price: "decimal(10,2)",
    created_at: "micro-timestamp",
    updated_at: "zoned-timestamp",
    released: "date",
  },
};

describe("JSON lines files", () => {
  it("decode with the table's column types: base64 and numeric decimals, .json and .json.gz", async () => {
    const source = await SourceBucket.create();
    const row = (id: number, name: string, price: string | number) => ({
      id,
      name,
      price,
      created_at: 1709251200123456,
      updated_at: "2024-03-01T10:00:00.000000Z",
      released: 19783,
    });
    await source.json("commerce.products", 0, 0, [
      JSON.stringify({ ...row(1, "a", "BOI="), ...meta("c", 100, 1) }),
      JSON.stringify({ ...row(1, "b", 40), ...meta("u", 200, 2) }),
    ]);
    const gz = fileKey("cdc.commerce.products", 0, 2, "json.gz");
    const lines = JSON.stringify({ ...row(1, "", 0), ...meta("d", 300, 3) }) + "\n";
    await fs.writeFile(path.join(source.root, gz), await promisify(gzip)(lines));
    const output = await tempDir("scd2-out-");
    const summary = await run(source.root, output, { tables: [JSON_TYPES] });
    expect(summary.tables[0]).toMatchObject({ files: 2, events: 3, versions: 2, current: 0, deleted: 1 });
    const rows = await query(
      `SELECT name, price, typeof(price) AS pt, created_at, updated_at, released, is_deleted, __source_file, __kafka_offset
       FROM read_parquet('${output}/products/**/*.parquet') ORDER BY effective_from`,
    );
    const common = {
      pt: "DECIMAL(10,2)",
      created_at: "2024-03-01 00:00:00.123456",
      updated_at: "2024-03-01 10:00:00+00",
      released: "2024-03-01",
      __source_file: "cdc.commerce.products/partition=0/cdc.commerce.products+0+0000000000.json",
    };
    expect(rows).toEqual([
      { name: "a", price: "12.50", is_deleted: false, __kafka_offset: "0", ...common },
      { name: "b", price: "40.00", is_deleted: true, __kafka_offset: "1", ...common },
    ]);
  });

  it("without column types, columns stay as delivered", async () => {
    const source = await SourceBucket.create();
    await source.json("commerce.products", 0, 0, [
      JSON.stringify({ id: 1, created_at: 1709251200123456, ...meta("c", 100, 1) }),
    ]);
    const output = await tempDir("scd2-out-");
    await run(source.root, output);
    const rows = await query(
      `SELECT created_at, typeof(created_at) AS t FROM read_parquet('${output}/products/**/*.parquet')`,
    );
    expect(rows).toEqual([{ created_at: "1709251200123456", t: "BIGINT" }]);
  });
});

describe("unavailable-value placeholders", () => {
  const DOCS: FixtureColumn[] = [
    { name: "id", duck: "INTEGER", avro: "int" },
    { name: "title", duck: "VARCHAR", avro: "string" },
    { name: "body", duck: "VARCHAR", avro: ["null", "string"] },
    { name: "data", duck: "BLOB", avro: ["null", "bytes"] },
    { name: "tags", duck: "VARCHAR[]", avro: ["null", { type: "array", items: "string" }] },
  ];

  it("carry the previous value forward, in text, bytes and array form; after a delete there is none", async () => {
    const source = await SourceBucket.create();
    const ts = (n: number) => at(`2024-03-01T00:00:0${n}Z`);
    const P = PLACEHOLDER_TEXT;
    await source.parquet(
      "commerce.docs",
      0,
      0,
      [
        {
          op: "c",
          lsn: 100,
          ts: ts(1),
          row: { id: 1, title: "t1", body: "long", data: "bin", tags: ["a", "b"] } as never,
        },
        { op: "u", lsn: 200, ts: ts(2), row: { id: 1, title: "t2", body: P, data: P, tags: [P] } },
        {
          op: "u",
          lsn: 300,
          ts: ts(3),
          row: { id: 1, title: "t3", body: P, data: "new", tags: [P] } as never,
        },
      ],
      DOCS,
    );
    await source.parquet(
      "commerce.docs",
      0,
      3,
      [
        { op: "d", lsn: 400, ts: ts(4), row: { id: 1 } },
        { op: "u", lsn: 500, ts: ts(5), row: { id: 1, title: "t5", body: P, data: null, tags: null } },
      ],
      DOCS,
    );
    const output = await tempDir("scd2-out-");
    await run(source.root, output, { tables: [{ table: "commerce.docs" }] });
    const rows = await query(
      `SELECT title, body, decode(data) AS data, tags FROM read_parquet('${output}/docs/**/*.parquet') ORDER BY effective_from`,
    );
    expect(rows).toEqual([
      { title: "t1", body: "long", data: "bin", tags: ["a", "b"] },
      { title: "t2", body: "long", data: "bin", tags: ["a", "b"] },
      { title: "t3", body: "long", data: "new", tags: ["a", "b"] },
      { title: "t5", body: null, data: null, tags: null },
    ]);
  });

  it("an update whose only difference is a placeholder for the unchanged value makes no new version", async () => {
    const source = await SourceBucket.create();
    const ts = (n: number) => at(`2024-03-01T00:00:0${n}Z`);
    const P = PLACEHOLDER_TEXT;
    const row = (title: string, body: string) => ({ id: 1, title, body, data: null, tags: null }) as never;
    await source.parquet(
      "commerce.docs",
      0,
      0,
      [
        { op: "c", lsn: 100, ts: ts(1), row: row("t1", "long") },
        // The same title, body unchanged (TOAST): nothing visible changed.
        { op: "u", lsn: 200, ts: ts(2), row: row("t1", P) },
        { op: "u", lsn: 300, ts: ts(3), row: row("t3", P) },
        // A real body equal to the carried one: again nothing changed.
        { op: "u", lsn: 400, ts: ts(4), row: row("t3", "long") },
      ],
      DOCS,
    );
    const output = await tempDir("scd2-out-");
    await run(source.root, output, { tables: [{ table: "commerce.docs" }] });
    const rows = await query(
      `SELECT title, body, epoch(effective_from)::INT AS f, epoch(effective_to)::INT AS t, __lsn FROM read_parquet('${output}/docs/**/*.parquet') ORDER BY effective_from`,
    );
    const epoch = (n: number) => ts(n) / 1000;
    expect(rows).toEqual([
      { title: "t1", body: "long", f: epoch(1), t: epoch(3), __lsn: "100" },
      { title: "t3", body: "long", f: epoch(3), t: null, __lsn: "300" },
    ]);
  });
});
