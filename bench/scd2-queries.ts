// `npm run bench:queries [-- --events N --keys K]`: how fast analysts' queries run on the SCD2
// output of the bench:scd2 change stream (generated or reused under .bench/scd2/). Builds the table
// (full build, then an incremental run adding 1%: the layout after real runs), opens the job's
// views.sql in DuckDB and times, median of 5 after a warm-up, the current state and a point in time,
// for the whole table and for one key, through the views and through the plain glob over every file
// (what analysts wrote before). Also prints the layout: files, row groups, and whether row groups are
// ordered by key (their id ranges do not overlap), which decides what DuckDB and Athena can skip.
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runScd2 } from "../analytics/src/job";
import { DirectoryStorage } from "../analytics/src/storage";
import { VIEWS_KEY, viewsSql } from "../analytics/src/views";
import { DEFAULT_INCREMENT_PERCENTS, combine, generate, incrementOf } from "./scd2/generate";

const ROOT = path.resolve(__dirname, "..");

async function build(source: string, output: string, workDir: string, fullRefresh: boolean): Promise<number> {
  const started = performance.now();
  await runScd2({
    source: new DirectoryStorage(source),
    output: new DirectoryStorage(output),
    tables: [{ table: "commerce.products" }],
    topicPrefix: "cdc",
    fullRefresh,
    workDir,
  });
  return performance.now() - started;
}

async function rows(duck: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await duck.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

async function timed(duck: DuckDBConnection, sql: string): Promise<{ ms: number; result: string }> {
  const runs: number[] = [];
  let result = "";
  for (let i = 0; i < 6; i++) {
    const started = performance.now();
    result = JSON.stringify(await rows(duck, sql));
    if (i > 0) runs.push(performance.now() - started);
  }
  runs.sort((a, b) => a - b);
  return { ms: runs[2]!, result };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { events: { type: "string" }, keys: { type: "string" }, reuse: { type: "boolean" } },
  });
  const events = Number(values.events ?? 10_000_000);
  const keys = Number(values.keys ?? 1_000_000);
  const dir = path.join(ROOT, ".bench", "scd2", `${events}-${keys}-4-100000`);
  const data = await generate(
    { events, keys, partitions: 4, fileRows: 100_000, incrementPercents: DEFAULT_INCREMENT_PERCENTS, dir },
    (l) => console.error(l),
  );
  const increment = incrementOf(data, 1);
  const out = path.join(dir, "queries");
  const output = path.join(out, "scd2");
  // --reuse: time the queries again on the output of an earlier run (builds take minutes at 10M).
  const reuse = values.reuse === true && existsSync(path.join(output, VIEWS_KEY));
  let fullMs = NaN;
  let incrementalMs = NaN;
  if (!reuse) {
    rmSync(out, { recursive: true, force: true });
    fullMs = await build(data.base, output, path.join(out, "work"), true);
    // The incremental run reads base + incremental files: a topics dir holding both.
    const both = path.join(out, "source-plus-1pct");
    combine(both, data.base, ...increment.dirs);
    incrementalMs = await build(both, output, path.join(out, "work"), false);
  }

  // The same rows, rewritten ordered by key (and validity): what row-group statistics could then skip.
  const sorted = path.join(out, "sorted");
  const db = await DuckDBInstance.create(":memory:");
  const duck = await db.connect();
  await duck.run(readFileSync(path.join(output, VIEWS_KEY), "utf8"));
  // As the job writes (analytics/src/scd2/files.ts); ORDER BY is kept all the same.
  await duck.run("SET preserve_insertion_order = false");
  for (const [folder, order] of reuse
    ? []
    : ([
        ["history", "id, effective_from"],
        ["current", "id"],
      ] as const)) {
    mkdirSync(path.join(sorted, "products", folder), { recursive: true });
    await duck.run(
      `COPY (SELECT * FROM read_parquet('${output}/products/${folder}/*.parquet') ORDER BY ${order})
       TO '${sorted}/products/${folder}/sorted.parquet' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880, ROW_GROUP_SIZE_BYTES '16MB')`,
    );
  }
  const sortedDb = await DuckDBInstance.create(":memory:");
  const sortedDuck = await sortedDb.connect();
  await sortedDuck.run(viewsSql(sorted, ["commerce.products"]));

  const glob = `read_parquet('${output}/products/**/*.parquet')`;
  const [mid] = await rows(
    duck,
    "SELECT CAST(quantile_disc(effective_from, 0.5) AS VARCHAR) AS t, (SELECT max(id) FROM products_current) AS k FROM products_history",
  );
  const t = `TIMESTAMPTZ '${String(mid!.t)}'`;
  const k = Number(mid!.k);
  const asOf = (rel: string) =>
    `${rel} WHERE effective_from <= ${t} AND (effective_to IS NULL OR effective_to > ${t})`;
  // Whole-table queries hash every column of every row they return: they read the data, not just counts.
  const all = "count(*) AS n, bit_xor(hash(p)) AS h";
  const queries: [string, string, string][] = [
    [
      "current state, whole table",
      `SELECT ${all} FROM products_current p`,
      `SELECT ${all} FROM ${glob} p WHERE is_current`,
    ],
    [
      "current state, one key",
      `SELECT ${all} FROM products_current p WHERE id = ${k}`,
      `SELECT ${all} FROM ${glob} p WHERE is_current AND id = ${k}`,
    ],
    [
      "point in time, whole table",
      `SELECT ${all} FROM products_as_of(${t}) p`,
      `SELECT ${all} FROM ${asOf(`${glob} p`)}`,
    ],
    [
      "point in time, one key",
      `SELECT ${all} FROM products_as_of(${t}) p WHERE id = ${k}`,
      `SELECT ${all} FROM ${asOf(`${glob} p`)} AND id = ${k}`,
    ],
    [
      "history of one key",
      `SELECT ${all} FROM products_history p WHERE id = ${k}`,
      `SELECT ${all} FROM ${glob} p WHERE id = ${k}`,
    ],
  ];
  const figures = [];
  for (const [name, view, plain] of queries) {
    const v = await timed(duck, view);
    const p = await timed(duck, plain);
    const s = await timed(sortedDuck, view);
    if (v.result !== p.result || v.result !== s.result)
      throw new Error(`${name}: the view gives ${v.result}, the glob ${p.result}, sorted files ${s.result}`);
    figures.push({
      query: name,
      rows: JSON.parse(v.result)[0].n,
      viewMs: Math.round(v.ms),
      globMs: Math.round(p.ms),
      sortedViewMs: Math.round(s.ms),
    });
  }
  const layout = async (dir: string) =>
    rows(
      duck,
      `WITH g AS (SELECT file_name, row_group_id, any_value(row_group_num_rows) AS n,
                    any_value(row_group_bytes) AS bytes,
                    min(TRY_CAST(stats_min AS BIGINT)) FILTER (WHERE path_in_schema = 'id') AS lo,
                    max(TRY_CAST(stats_max AS BIGINT)) FILTER (WHERE path_in_schema = 'id') AS hi
                  FROM parquet_metadata('${dir}/products/*/*.parquet') GROUP BY ALL),
            f AS (SELECT regexp_extract(file_name, 'products/([a-z]+)/', 1) AS folder, * FROM g)
       SELECT folder, count(DISTINCT file_name)::INT AS files, count(*)::INT AS row_groups, sum(n)::BIGINT AS rows,
              round(sum(bytes) / 2^20)::INT AS mib,
              -- A key lookup must read every row group whose id range holds the key: on average this many.
              round(avg((SELECT count(*) FROM f b WHERE b.folder = a.folder AND a.lo BETWEEN b.lo AND b.hi)), 1) AS row_groups_per_key
       FROM f a GROUP BY folder ORDER BY folder`,
    );
  console.log(
    JSON.stringify(
      {
        machine: {
          cpus: os.cpus().length,
          load: os.loadavg(),
          memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        },
        events: data.baseEvents + increment.events,
        fullBuildMs: Math.round(fullMs),
        incrementalMs: Math.round(incrementalMs),
        instant: mid!.t,
        key: k,
        figures,
        layout: await layout(output),
        sortedLayout: await layout(sorted),
      },
      null,
      2,
    ),
  );
  for (const c of [duck, sortedDuck]) c.closeSync();
  for (const d of [db, sortedDb]) d.closeSync();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
