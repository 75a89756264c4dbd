/**
 * A column added to a source table reaches the analysts' views with no step by anyone: after
 * `ALTER TABLE commerce.products ADD COLUMN colour`, the capture and the next (incremental) job run,
 * the views file the job rewrote shows the column, with PostgreSQL's values now and NULL as of before
 * the change. The Glue columns the stack derives once the table definition lists the column equal
 * the new files' schema (what a stack creates its tables with; existing Glue tables get the column from
 * the job after its run, catalog-glue.test.ts).
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PRODUCTS_COLUMNS } from "../../connectors/database";
import { glueTypeOf } from "../../common/catalog";
import { scd2CatalogColumns } from "../../infra/catalog/columns";
import { VIEWS_KEY } from "../../analytics/src/views";
import { captureAndBuild, type CapturedRun } from "./helpers/captured-run";

let run: CapturedRun;
let db: DuckDBInstance;
let duck: DuckDBConnection;

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

beforeAll(async () => {
  run = await captureAndBuild({ phases: 1, phaseMs: 800, rate: 40, seed: 20_261_208 });
  await run.next(async (admin) => {
    await admin.query("ALTER TABLE commerce.products ADD COLUMN colour text");
    await admin.query("ALTER TABLE truth.products ADD COLUMN colour text");
    return (await admin.query("UPDATE commerce.products SET colour = 'red' WHERE id % 3 = 0")).rowCount!;
  });
  db = await DuckDBInstance.create(":memory:");
  duck = await db.connect();
  await duck.run(readFileSync(join(run.scd2Dir, VIEWS_KEY), "utf8"));
}, 240_000);

afterAll(async () => {
  duck?.closeSync();
  db?.closeSync();
  await run?.close();
});

it("products_current shows the new column with PostgreSQL's values", async () => {
  const truth = await run.admin.query<{ id: string; colour: string | null }>(
    "SELECT t.id::text AS id, t.colour FROM truth.products t WHERE t.at = $1::timestamptz ORDER BY t.id",
    [run.instants[1]],
  );
  expect(truth.rows.filter((r) => r.colour === "red").length).toBeGreaterThan(0);
  expect(
    await rows("SELECT CAST(id AS VARCHAR) AS id, colour FROM products_current ORDER BY id::BIGINT"),
  ).toEqual(truth.rows);
});

it("products_as_of before the change has the column, NULL in every row", async () => {
  const [before] = run.instants;
  expect(
    await rows(
      `SELECT count(*)::INT AS n, count(colour)::INT AS coloured FROM products_as_of(TIMESTAMPTZ '${before}')`,
    ),
  ).toEqual([{ n: expect.any(Number), coloured: 0 }]);
  expect(
    (await rows(`SELECT count(*)::INT AS n FROM products_as_of(TIMESTAMPTZ '${before}')`))[0]!.n,
  ).toBeGreaterThan(0);
});

it("the Glue columns derived from the definition with the column equal the new files' schema", async () => {
  const described = await rows(`DESCRIBE SELECT * FROM products_history`);
  const declared = scd2CatalogColumns({
    qualifiedName: "commerce.products",
    columns: [...PRODUCTS_COLUMNS, { name: "colour", type: "text", nullable: true }],
  });
  expect(
    described.map((c) => [String(c.column_name).toLowerCase(), glueTypeOf(String(c.column_type))]),
  ).toEqual(declared.map((c) => [c.name, c.glueType]));
});
