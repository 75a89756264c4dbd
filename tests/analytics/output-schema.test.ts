// The Parquet schema of the SCD2 files: DuckDB 1.5's writer marks every column OPTIONAL, NOT NULL or not
// (docs/analytics.md, "Output"); effective_from is never NULL by construction. If this test starts
// failing, DuckDB can write REQUIRED columns and the job should mark effective_from REQUIRED. The SCD2
// files are in version 1 encodings, the state files (read by the job alone) in version 2.
import { DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { SourceBucket, product, query, run, tempDir, u } from "./helpers/fixtures";

describe("the SCD2 files' Parquet schema", () => {
  it("has effective_from as an OPTIONAL INT64 timestamp column without NULLs", async () => {
    const source = await SourceBucket.create();
    await source.parquet("commerce.products", 0, 0, [u(100, 1, product(1, "a")), u(200, 2, product(1, "b"))]);
    const output = await tempDir("scd2-out-");
    await run(source.root, output);
    const files = `'${output}/products/**/*.parquet'`;
    expect(
      await query(
        `SELECT DISTINCT name, type, repetition_type, logical_type FROM parquet_schema(${files}) WHERE name = 'effective_from'`,
      ),
    ).toEqual([
      {
        name: "effective_from",
        type: "INT64",
        repetition_type: "OPTIONAL",
        logical_type:
          "TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))",
      },
    ]);
    expect(
      await query(`SELECT count(*) FILTER (WHERE effective_from IS NULL) AS n FROM read_parquet(${files})`),
    ).toEqual([{ n: "0" }]);
  });

  it("are in Parquet's version 1 encodings, every reader's, and the job's state files in version 2", async () => {
    const source = await SourceBucket.create();
    await source.parquet(
      "commerce.products",
      0,
      0,
      Array.from({ length: 40 }, (_, i) => u(100 + i, 1 + i, product(1 + (i % 8), `v${i}`))),
    );
    const output = await tempDir("scd2-out-");
    await run(source.root, output);
    const encodings = async (glob: string) =>
      query(
        `SELECT list_sort(list(DISTINCT encodings)) AS encodings FROM parquet_metadata('${output}/${glob}')
         WHERE path_in_schema = '__lsn'`,
      );
    // Version 2 delta-encodes such positions (DELTA_BINARY_PACKED); version 1 writes them PLAIN.
    expect(await encodings("products/**/*.parquet")).toEqual([{ encodings: ["PLAIN"] }]);
    expect(await encodings("_state/commerce.products/*/*.parquet")).toEqual([
      { encodings: ["DELTA_BINARY_PACKED"] },
    ]);
  });

  it("DuckDB writes a NOT NULL table column as OPTIONAL too (why the job cannot mark it REQUIRED)", async () => {
    const db = await DuckDBInstance.create(":memory:");
    const connection = await db.connect();
    const file = `${await tempDir("required-")}/t.parquet`;
    try {
      await connection.run("CREATE TABLE t (effective_from TIMESTAMPTZ NOT NULL)");
      await connection.run("INSERT INTO t VALUES (TIMESTAMPTZ '2024-03-01 00:00:00+00')");
      await connection.run(`COPY t TO '${file}' (FORMAT parquet)`);
      const reader = await connection.runAndReadAll(
        `SELECT repetition_type FROM parquet_schema('${file}') WHERE name = 'effective_from'`,
      );
      expect(reader.getRowObjectsJson()).toEqual([{ repetition_type: "OPTIONAL" }]);
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  });
});
