import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bucketContents, countRecords, duckQuery, waitForRecords } from "../../local/bucket";
import { formatTable, scd2TableFiles } from "../../local/summary";

const root = mkdtempSync(join(tmpdir(), "cdc-local-helpers-"));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("bucket", () => {
  const topicsDir = join(root, "bucket", "cdc_data");
  const partition = join(topicsDir, "cdc.commerce.products", "partition=0");
  mkdirSync(partition, { recursive: true });

  it("counts the records of Parquet and JSON-lines change files per topic", async () => {
    const parquet = join(partition, "cdc.commerce.products+0+0000000000.snappy.parquet");
    await duckQuery(`COPY (SELECT range AS id FROM range(7)) TO '${parquet}' (FORMAT parquet)`);
    writeFileSync(join(partition, "cdc.commerce.products+0+0000000007.json"), '{"id":7}\n{"id":8}\n');
    writeFileSync(join(partition, "notes.txt"), "not a change file");
    expect(await countRecords([parquet])).toBe(7);
    expect(await bucketContents(topicsDir, ["cdc.commerce.products", "cdc.commerce.users"])).toEqual([
      { topic: "cdc.commerce.products", files: 2, records: 9 },
      { topic: "cdc.commerce.users", files: 0, records: 0 },
    ]);
  });

  it("flushes until the expected records landed, or fails naming how many did", async () => {
    let flushes = 0;
    const flush = async () => void flushes++;
    const options = { flush, topicsDirPath: topicsDir, topics: ["cdc.commerce.products"], timeoutMs: 300 };
    await expect(waitForRecords({ ...options, expected: 9 })).resolves.toBe(9);
    expect(flushes).toBe(1);
    await expect(waitForRecords({ ...options, expected: 10 })).rejects.toThrow(
      `only 9 of 10 change records landed in ${topicsDir} after 300 ms`,
    );
    expect(flushes).toBeGreaterThan(2);
  });
});

describe("summary", () => {
  it("aligns text left and numbers right", () => {
    expect(
      formatTable(
        ["table", "rows"],
        [
          ["commerce.products", 1200],
          ["commerce.users", 7],
        ],
      ),
    ).toBe(["table              rows", "commerce.products  1200", "commerce.users        7"].join("\n"));
  });

  it("reads the SCD2 files of a table from the job's manifest", () => {
    const output = join(root, "scd2");
    mkdirSync(join(output, "_state"), { recursive: true });
    expect(() => scd2TableFiles(output, "commerce.products")).toThrow(
      `no SCD2 manifest at ${output}/_state/manifest.json`,
    );
    writeFileSync(
      join(output, "_state", "manifest.json"),
      JSON.stringify({
        version: 1,
        tables: {
          "commerce.products": {
            history: [{ key: "products/history/r1.parquet" }, { key: "products/history/r2.parquet" }],
            current: { key: "products/current/r2.parquet" },
          },
        },
      }),
    );
    expect(scd2TableFiles(output, "commerce.products")).toEqual([
      join(output, "products/history/r1.parquet"),
      join(output, "products/history/r2.parquet"),
      join(output, "products/current/r2.parquet"),
    ]);
    expect(() => scd2TableFiles(output, "commerce.users")).toThrow("has no table commerce.users");
  });
});
