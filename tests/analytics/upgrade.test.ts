// Output and state written by the job before snapshot placement: table files without
// is_deleted_inferred, key state without `_p`, applied positions without `_p`, time and delete flag.
// The next incremental run carries on (the table equals a full build of the same files, every file with
// the new column), and reconciliation over such applied positions asks for a full refresh.
import { readdirSync, rmSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { SourceBucket, query, run, tempDir } from "./helpers/fixtures";
import { change, del, history, read } from "./helpers/snapshot-changes";

/** Rewrites every Parquet file under `dir` without `columns` (as the job before them wrote it). */
async function dropColumns(dir: string, columns: string[]): Promise<void> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".parquet"))
    .map((e) => path.join(e.parentPath, e.name));
  for (const file of files) {
    const [described] = await query(
      `SELECT list(column_name) AS names FROM (DESCRIBE SELECT * FROM '${file}')`,
    );
    const kept = (described!.names as string[]).filter((n) => !columns.includes(n));
    if (kept.length === (described!.names as string[]).length) continue;
    await query(
      `COPY (SELECT ${kept.map((n) => `"${n}"`).join(", ")} FROM '${file}') TO '${file}.tmp.parquet' (FORMAT parquet)`,
    );
    await query(`COPY (SELECT * FROM '${file}.tmp.parquet') TO '${file}' (FORMAT parquet)`);
    rmSync(`${file}.tmp.parquet`);
  }
}

// The first run closes a version: its history file must be rewritten with the new column.
const FIRST = [
  change("c", 100, 50, 1, 1, "a"),
  change("c", 101, 50, 1, 2, "b"),
  change("c", 102, 50, 1, 3, "c"),
  change("u", 110, 105, 2, 2, "b1"),
];
const SECOND = [change("u", 200, 150, 2, 1, "a2"), del(210, 200, 3, 2), read(300, 5, 3, "c")];

describe("output and state of the job before snapshot placement", () => {
  it("an incremental run carries on and rewrites the table files with is_deleted_inferred", async () => {
    const source = await SourceBucket.create();
    await source.parquet("commerce.products", 0, 0, FIRST);
    const output = await tempDir("scd2-upgrade-");
    await run(source.root, output);
    await dropColumns(path.join(output, "products"), ["is_deleted_inferred"]);
    const state = path.join(output, "_state", "commerce.products");
    await dropColumns(path.join(state, "keys"), ["_p"]);
    await dropColumns(path.join(state, "applied"), ["_p", "__source_ts_ms", "_del"]);
    await source.parquet("commerce.products", 0, 10, SECOND);
    await run(source.root, output);

    const full = await tempDir("scd2-upgrade-full-");
    await run(source.root, full);
    expect(await history(output)).toEqual(await history(full));
    const [columns] = await query(
      `SELECT count(DISTINCT filename)::INT AS files, count(*) FILTER (WHERE is_deleted_inferred IS NULL)::INT AS nulls
       FROM read_parquet('${path.join(output, "products", "**", "*.parquet")}', filename = true, union_by_name = true)`,
    );
    expect(columns).toEqual({ files: 3, nulls: 0 });
    // Reconciliation needs what those applied positions lack.
    await expect(
      run(source.root, output, { reconcile: [{ table: "commerce.products", from: 250n, to: 400n }] }),
    ).rejects.toThrow(
      "commerce.products: the stored applied positions were written by an earlier version of the job, without what reconciliation needs (each change's place and kind): run this reconciliation once with --full-refresh; nothing was written",
    );
  });
});
