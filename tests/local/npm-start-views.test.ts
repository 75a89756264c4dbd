/**
 * `npm start` ends with the DuckDB views ready: its last line is the one command that opens them
 * (`duckdb -init <local dir>/scd2/views.sql`). The duckdb CLI is not installed here, so the test runs
 * the same init file through @duckdb/node-api and checks the views against the summary it printed.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { runNpmStart, summaryRow } from "./npm-start-process";

const root = mkdtempSync(join(tmpdir(), "cdc-start-views-"));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

it("prints the command that opens the views, and the views hold the tables it summarised", async () => {
  const localDir = join(root, "local");
  const { code, stdout, stderr } = await runNpmStart("", [
    "--duration",
    "2",
    "--rate",
    "30",
    "--fresh",
    "--local-dir",
    localDir,
  ]);
  expect(code, stderr.slice(-3000)).toBe(0);
  const initFile = join(localDir, "scd2", "views.sql");
  expect(stdout.trimEnd().split("\n").slice(-2)).toEqual([
    "Query them (views <table>_current, <table>_history, <table>_as_of(instant)):",
    `  duckdb -init ${initFile}`,
  ]);

  const db = await DuckDBInstance.create(":memory:");
  const duck = await db.connect();
  try {
    await duck.run(readFileSync(initFile, "utf8"));
    for (const table of ["commerce.products", "commerce.users"]) {
      const name = table.split(".")[1]!;
      const [, , , versions, current] = summaryRow(stdout, table);
      const reader = await duck.runAndReadAll(
        `SELECT (SELECT count(*) FROM ${name}_history)::INT AS versions,
                (SELECT count(*) FROM ${name}_current)::INT AS current,
                (SELECT count(*) FROM ${name}_as_of(now()))::INT AS now_rows`,
      );
      expect(reader.getRowObjectsJson()).toEqual([{ versions, current, now_rows: current }]);
    }
  } finally {
    duck.closeSync();
    db.closeSync();
  }
}, 300_000);
