import { describe, expect, it } from "vitest";
import type { Change, FixtureColumn, Values } from "./helpers/fixtures";
import { PRODUCT_COLUMNS, SourceBucket, at, query, readTable, run, tempDir } from "./helpers/fixtures";

/** A products row with fixed defaults for the columns a case does not care about. */
const product = (id: number, name: string, extra: Values = {}): Values => ({
  id,
  name,
  price: 9.99,
  created_at: 1704067200000000,
  updated_at: "2024-01-01T00:00:00.000000Z",
  released: 19723,
  description: "plain",
  ...extra,
});

const T = (n: number) => at(`2024-03-01T00:00:0${n}Z`);
const iso = (n: number) => `2024-03-01 00:00:0${n}+00`;

interface Expected {
  id: number;
  name: string;
  from: number;
  to: number | null;
  deleted?: boolean;
  lsn: number;
  op: string;
}

const expected = (rows: Expected[]) =>
  rows.map((r) => ({
    id: r.id,
    name: r.name,
    effective_from: iso(r.from),
    effective_to: r.to === null ? null : iso(r.to),
    is_current: r.to === null,
    is_deleted: r.deleted ?? false,
    __op: r.op,
    __lsn: String(r.lsn),
  }));

async function build(files: { partition?: number; offset: number; changes: Change[] }[]) {
  const source = await SourceBucket.create();
  for (const f of files) await source.parquet("commerce.products", f.partition ?? 0, f.offset, f.changes);
  const output = await tempDir("scd2-out-");
  await run(source.root, output);
  const rows = await readTable(output, "products", "id, effective_from, __lsn");
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    effective_from: r.effective_from,
    effective_to: r.effective_to,
    is_current: r.is_current,
    is_deleted: r.is_deleted,
    __op: r.__op,
    __lsn: r.__lsn,
  }));
}

const c = (lsn: number, ts: number, row: Values, tx?: number): Change => ({
  op: "c",
  lsn,
  ts: T(ts),
  row,
  tx,
});
const u = (lsn: number, ts: number, row: Values, tx?: number): Change => ({
  op: "u",
  lsn,
  ts: T(ts),
  row,
  tx,
});
const d = (lsn: number, ts: number, id: number, tx?: number): Change => ({
  op: "d",
  lsn,
  ts: T(ts),
  row: { id },
  tx,
});
const r = (lsn: number, ts: number, row: Values): Change => ({ op: "r", lsn, ts: T(ts), row, tx: 1 });

describe("SCD2 rules (data-contract.md §6)", () => {
  const cases: {
    name: string;
    files: { partition?: number; offset: number; changes: Change[] }[];
    rows: Expected[];
  }[] = [
    {
      name: "a key's changes are ordered by LSN, not by their place in the files",
      files: [
        { offset: 0, changes: [u(300, 3, product(1, "v3")), c(100, 1, product(1, "v1"))] },
        { offset: 2, changes: [u(200, 2, product(1, "v2"))] },
      ],
      rows: [
        { id: 1, name: "v1", from: 1, to: 2, lsn: 100, op: "c" },
        { id: 1, name: "v2", from: 2, to: 3, lsn: 200, op: "u" },
        { id: 1, name: "v3", from: 3, to: null, lsn: 300, op: "u" },
      ],
    },
    {
      name: "snapshot rows come first, even when a change streamed after them has a lower LSN",
      files: [{ offset: 0, changes: [r(500, 1, product(1, "snap")), u(400, 2, product(1, "after"))] }],
      rows: [
        { id: 1, name: "snap", from: 1, to: 2, lsn: 500, op: "r" },
        { id: 1, name: "after", from: 2, to: null, lsn: 400, op: "u" },
      ],
    },
    {
      name: "several changes to one key in one transaction: only the last becomes a version",
      files: [
        {
          offset: 0,
          changes: [
            c(100, 1, product(1, "v1")),
            u(200, 2, product(1, "tmp"), 7),
            u(210, 2, product(1, "final"), 7),
          ],
        },
      ],
      rows: [
        { id: 1, name: "v1", from: 1, to: 2, lsn: 100, op: "c" },
        { id: 1, name: "final", from: 2, to: null, lsn: 210, op: "u" },
      ],
    },
    {
      name: "a delete and a re-insert in one transaction leave the key live: the old version is not deleted",
      files: [
        {
          offset: 0,
          changes: [c(100, 1, product(1, "v1")), d(200, 2, 1, 9), c(201, 2, product(1, "v2"), 9)],
        },
      ],
      rows: [
        { id: 1, name: "v1", from: 1, to: 2, lsn: 100, op: "c" },
        { id: 1, name: "v2", from: 2, to: null, lsn: 201, op: "c" },
      ],
    },
    {
      name: "re-delivered duplicates (same key and LSN) count once, across partitions and files",
      files: [
        { offset: 0, changes: [c(100, 1, product(1, "v1")), u(200, 2, product(1, "v2"))] },
        { offset: 2, changes: [u(200, 2, product(1, "v2")), u(300, 3, product(1, "v3"))] },
        { partition: 1, offset: 0, changes: [c(100, 1, product(1, "v1"))] },
      ],
      rows: [
        { id: 1, name: "v1", from: 1, to: 2, lsn: 100, op: "c" },
        { id: 1, name: "v2", from: 2, to: 3, lsn: 200, op: "u" },
        { id: 1, name: "v3", from: 3, to: null, lsn: 300, op: "u" },
      ],
    },
    {
      name: "a delete closes the current version, which keeps its real values; a re-insert opens a new one",
      files: [
        { offset: 0, changes: [c(100, 1, product(1, "v1")), d(200, 2, 1), c(300, 3, product(1, "again"))] },
      ],
      rows: [
        { id: 1, name: "v1", from: 1, to: 2, deleted: true, lsn: 100, op: "c" },
        { id: 1, name: "again", from: 3, to: null, lsn: 300, op: "c" },
      ],
    },
    {
      name: "a deleted key has no current version",
      files: [
        { offset: 0, changes: [c(100, 1, product(1, "v1")), c(110, 1, product(2, "other")), d(200, 2, 1)] },
      ],
      rows: [
        { id: 1, name: "v1", from: 1, to: 2, deleted: true, lsn: 100, op: "c" },
        { id: 2, name: "other", from: 1, to: null, lsn: 110, op: "c" },
      ],
    },
    {
      name: "an update whose values equal the current version's makes no new version",
      files: [
        {
          offset: 0,
          changes: [
            c(100, 1, product(1, "same")),
            u(200, 2, product(1, "same")),
            u(300, 3, product(1, "new")),
          ],
        },
      ],
      rows: [
        { id: 1, name: "same", from: 1, to: 3, lsn: 100, op: "c" },
        { id: 1, name: "new", from: 3, to: null, lsn: 300, op: "u" },
      ],
    },
    {
      name: "a delete of a key never seen before makes no version",
      files: [{ offset: 0, changes: [d(100, 1, 5), c(200, 2, product(1, "x"))] }],
      rows: [{ id: 1, name: "x", from: 2, to: null, lsn: 200, op: "c" }],
    },
  ];

  for (const testCase of cases) {
    it(testCase.name, async () => {
      expect(await build(testCase.files)).toEqual(expected(testCase.rows));
    });
  }

  it("lineage names the file and Kafka offset of the copy kept (the lowest position)", async () => {
    const source = await SourceBucket.create();
    await source.parquet("commerce.products", 0, 10, [
      c(100, 1, product(1, "v1")),
      c(100, 1, product(1, "v1")),
    ]);
    await source.parquet("commerce.products", 0, 0, [c(50, 0, product(2, "w")), c(100, 1, product(1, "v1"))]);
    const output = await tempDir("scd2-out-");
    await run(source.root, output);
    const rows = await query(
      `SELECT id, __source_file, __kafka_partition, __kafka_offset FROM read_parquet('${output}/products/**/*.parquet') ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: 1,
        __source_file: "cdc.commerce.products/partition=0/cdc.commerce.products+0+0000000000.snappy.parquet",
        __kafka_partition: 0,
        __kafka_offset: "1",
      },
      {
        id: 2,
        __source_file: "cdc.commerce.products/partition=0/cdc.commerce.products+0+0000000000.snappy.parquet",
        __kafka_partition: 0,
        __kafka_offset: "0",
      },
    ]);
  });

  it("decodes Debezium encodings from the Parquet footer's Avro schema", async () => {
    const source = await SourceBucket.create();
    await source.parquet("commerce.products", 0, 0, [
      c(
        100,
        1,
        product(1, "p", {
          price: 1234.5,
          created_at: 1709251200123456,
          updated_at: "2024-03-01T10:00:00.5Z",
          released: 19783,
        }),
      ),
    ]);
    const output = await tempDir("scd2-out-");
    await run(source.root, output);
    const rows = await query(
      `SELECT price, typeof(price) AS pt, created_at, typeof(created_at) AS ct, updated_at, typeof(updated_at) AS ut, released, typeof(released) AS rt, typeof(effective_from) AS ft FROM read_parquet('${output}/products/**/*.parquet')`,
    );
    expect(rows).toEqual([
      {
        price: "1234.50",
        pt: "DECIMAL(10,2)",
        created_at: "2024-03-01 00:00:00.123456",
        ct: "TIMESTAMP",
        updated_at: "2024-03-01 10:00:00.5+00",
        ut: "TIMESTAMP WITH TIME ZONE",
        released: "2024-03-01",
        rt: "DATE",
        ft: "TIMESTAMP WITH TIME ZONE",
      },
    ]);
  });

  it("a column added later is NULL in earlier versions", async () => {
    const source = await SourceBucket.create();
    await source.parquet("commerce.products", 0, 0, [c(100, 1, product(1, "v1"))]);
    const withColor: FixtureColumn[] = [
      ...PRODUCT_COLUMNS,
      { name: "color", duck: "VARCHAR", avro: ["null", "string"] },
    ];
    await source.parquet(
      "commerce.products",
      0,
      1,
      [u(200, 2, product(1, "v2", { color: "red" }))],
      withColor,
    );
    const output = await tempDir("scd2-out-");
    await run(source.root, output);
    const rows = await query(
      `SELECT name, color FROM read_parquet('${output}/products/**/*.parquet') ORDER BY effective_from`,
    );
    expect(rows).toEqual([
      { name: "v1", color: null },
      { name: "v2", color: "red" },
    ]);
  });
});
