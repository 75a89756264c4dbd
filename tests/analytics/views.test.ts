/**
 * The DuckDB views file the job writes (<output>/views.sql), opened with @duckdb/node-api exactly as
 * `duckdb -init <output>/views.sql` would run it, over a real job's output of a real workload:
 * `<table>_current` returns exactly PostgreSQL's rows now, `<table>_as_of(t)` exactly its rows at each
 * instant PostgreSQL recorded (tests/analytics/helpers/captured-run.ts), `<table>_history` every version.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PRODUCTS_COLUMNS, USERS_COLUMNS, type ColumnDefinition } from "../../connectors/database";
import { VIEWS_KEY } from "../../analytics/src/views";
import { differences, duckText, pgText, type Row } from "../local/compare";
import { captureAndBuild, shortName, type CapturedRun } from "./helpers/captured-run";

const COLUMNS: Record<string, readonly ColumnDefinition[]> = {
  "commerce.products": PRODUCTS_COLUMNS,
  "commerce.users": USERS_COLUMNS,
};
const PHASES = 4;

let run: CapturedRun;
let db: DuckDBInstance;
let duck: DuckDBConnection;

async function rows(sql: string): Promise<Row[]> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJson() as Row[];
}

/** The view's (or macro's) rows as text, in PostgreSQL's comparable form, by id. */
async function viewRows(relation: string, columns: readonly ColumnDefinition[]): Promise<Row[]> {
  const types = new Map(
    (await rows(`DESCRIBE SELECT * FROM ${relation}`)).map((r) => [r.column_name!, r.column_type!]),
  );
  const select = columns.map((c) => duckText(c.name, types.get(c.name) ?? "VARCHAR")).join(", ");
  return rows(`SELECT ${select} FROM ${relation} ORDER BY CAST(id AS BIGINT)`);
}

async function truthAt(table: string, at: string): Promise<Row[]> {
  const columns = COLUMNS[table]!;
  const result = await run.admin.query<Row>(
    `SELECT ${columns.map(pgText).join(", ")} FROM truth.${shortName(table)} t WHERE t.at = $1::timestamptz ORDER BY t.id`,
    [at],
  );
  return result.rows;
}

beforeAll(async () => {
  run = await captureAndBuild({ phases: PHASES, phaseMs: 1500, rate: 60, seed: 20_261_206 });
  db = await DuckDBInstance.create(":memory:");
  duck = await db.connect();
  await duck.run(readFileSync(join(run.scd2Dir, VIEWS_KEY), "utf8"));
}, 240_000);

afterAll(async () => {
  duck?.closeSync();
  db?.closeSync();
  await run?.close();
});

describe.each(Object.keys(COLUMNS))("the DuckDB views of %s", (table) => {
  const name = shortName(table);

  it("<table>_current returns exactly PostgreSQL's rows at the end (one per live key)", async () => {
    const last = run.instants[run.instants.length - 1]!;
    const expected = await truthAt(table, last);
    const actual = await viewRows(`${name}_current`, COLUMNS[table]!);
    expect(expected.length).toBeGreaterThan(0);
    expect(differences(expected, actual)).toEqual([]);
    expect(actual).toEqual(expected);
  });

  it.each([...Array(PHASES).keys()])(
    "<table>_as_of(instant %i) returns exactly PostgreSQL's rows at that instant",
    async (phase) => {
      const at = run.instants[phase]!;
      const expected = await truthAt(table, at);
      const actual = await viewRows(`${name}_as_of(TIMESTAMPTZ '${at}')`, COLUMNS[table]!);
      expect(expected.length).toBeGreaterThan(0);
      expect(differences(expected, actual)).toEqual([]);
      expect(actual).toEqual(expected);
    },
  );

  it("<table>_as_of is half-open: at a change's commit time the new version, a microsecond before the old", async () => {
    // A key's consecutive versions [from, to) and [to, …): the instant `to` belongs to the second only.
    const [pair] = await rows(
      `SELECT CAST(id AS VARCHAR) AS id, CAST(effective_to AS VARCHAR) AS at FROM ${name}_history h
       WHERE NOT is_deleted AND effective_to IS NOT NULL ORDER BY id, effective_from LIMIT 1`,
    );
    const at = `TIMESTAMPTZ '${pair!.at!}'`;
    const version = (instant: string) =>
      rows(
        `SELECT CAST(effective_from AS VARCHAR) AS from_, CAST(effective_to AS VARCHAR) AS to_ FROM ${name}_as_of(${instant}) WHERE id = ${pair!.id!}`,
      );
    const atChange = await version(at);
    const justBefore = await version(`${at} - INTERVAL 1 MICROSECOND`);
    expect([atChange.length, justBefore.length]).toEqual([1, 1]);
    const [after, before] = [atChange[0], justBefore[0]];
    expect(after!.from_).toBe(pair!.at);
    expect(before!.to_).toBe(pair!.at);
  });

  it("<table>_as_of before the first commit is empty; <table>_history holds every version the job made", async () => {
    expect(
      await rows(`SELECT count(*)::INT AS n FROM ${name}_as_of(TIMESTAMPTZ '2000-01-01 00:00:00+00')`),
    ).toEqual([{ n: 0 }]);
    const summary = run.summaries.find((s) => s.table === table)!;
    expect(
      await rows(
        `SELECT count(*)::INT AS versions, count(*) FILTER (WHERE is_current)::INT AS current FROM ${name}_history`,
      ),
    ).toEqual([{ versions: summary.versions, current: summary.current }]);
    // The workload deleted keys: history holds versions a delete ended, and they are not current.
    const [deleted] = await rows(
      `SELECT count(*) FILTER (WHERE is_deleted)::INT AS n, count(*) FILTER (WHERE is_deleted AND is_current)::INT AS live FROM ${name}_history`,
    );
    expect(Number(deleted!.n)).toBeGreaterThan(0);
    expect(deleted!.live).toBe(0);
  });
});

describe("the views file", () => {
  it("was built from a workload with deletes, re-inserts and key changes", () => {
    for (const op of ["delete-product", "reinsert-product", "change-product-key", "update-description"])
      expect(run.operations[op] ?? 0, op).toBeGreaterThan(0);
  });

  it("names its tables' files by absolute path and says how to open it", () => {
    const text = readFileSync(join(run.scd2Dir, VIEWS_KEY), "utf8");
    expect(text.split("\n").slice(0, 2)).toEqual([
      `-- SCD2 views over ${run.scd2Dir}, rewritten by cdc-scd2 after each run. Open them with:`,
      `--   duckdb -init ${run.scd2Dir}/views.sql`,
    ]);
    expect(text).toContain(`read_parquet('${run.scd2Dir}/products/current/*.parquet'`);
    expect(text).not.toContain("httpfs");
  });
});
