/**
 * The DuckDB views file the job writes next to the SCD2 tables after each committed run:
 * `<output>/views.sql` defines, per table, `<table>_history` (every version), `<table>_current` (one row
 * per live key) and the table macro `<table>_as_of(instant)` (the rows valid at an instant), over the
 * same files, by absolute path or S3 URI. `duckdb -init <output>/views.sql` opens them; on S3,
 * `duckdb -init <(aws s3 cp s3://…/views.sql -)`.
 */
import { ident, literal } from "./sql";
import type { Storage } from "./storage/storage";

/** Key of the views file under the output root (outside every table folder and `_state/`). */
export const VIEWS_KEY = "views.sql";

/** The views of one SCD2 table: its folder under the output root is its name without the schema. */
function tableViews(root: string, table: string): string {
  const dir = table.slice(table.indexOf(".") + 1);
  const files = (folder: string) => literal(`${root}/${dir}/${folder}/*.parquet`);
  const history = ident(`${dir}_history`);
  const at = "CAST(instant AS TIMESTAMPTZ)";
  return [
    `-- ${table}: every version, valid over [effective_from, effective_to); effective_to IS NULL while current.`,
    // union_by_name: during a publication after a schema change, old and new files may coexist.
    `CREATE OR REPLACE VIEW ${history} AS SELECT * FROM read_parquet(${files("*")}, hive_partitioning = false, union_by_name = true);`,
    `-- ${table}: one row per live key, its version valid now (only the current file is read).`,
    `CREATE OR REPLACE VIEW ${ident(`${dir}_current`)} AS SELECT * FROM read_parquet(${files("current")}, hive_partitioning = false);`,
    `-- ${table} as it was at an instant: SELECT * FROM ${dir}_as_of(TIMESTAMPTZ '2026-12-01 00:00:00+00');`,
    `CREATE OR REPLACE MACRO ${ident(`${dir}_as_of`)}(instant) AS TABLE SELECT * FROM ${history}`,
    `  WHERE effective_from <= ${at} AND (effective_to IS NULL OR effective_to > ${at});`,
  ].join("\n");
}

/** The views file for the SCD2 tables `tables` (`schema.table`) under `root` (a directory or `s3://…`). */
export function viewsSql(root: string, tables: readonly string[]): string {
  const s3 = root.startsWith("s3://");
  const where = s3 ? `duckdb -init <(aws s3 cp ${root}/${VIEWS_KEY} -)` : `duckdb -init ${root}/${VIEWS_KEY}`;
  return [
    `-- SCD2 views over ${root}, rewritten by cdc-scd2 after each run. Open them with:`,
    `--   ${where}`,
    ...(s3
      ? [
          "INSTALL httpfs; LOAD httpfs; INSTALL aws; LOAD aws;",
          "-- Credentials and region from the AWS credential chain (environment, profile, SSO, instance role).",
          "CREATE SECRET IF NOT EXISTS cdc_scd2_s3 (TYPE s3, PROVIDER credential_chain);",
        ]
      : []),
    ...[...tables].sort().map((table) => tableViews(root.replace(/\/+$/, ""), table)),
    "",
  ].join("\n");
}

/** Writes the views file for `tables` (replacing it atomically); nothing when there is no table yet. */
export async function writeViews(output: Storage, tables: readonly string[]): Promise<void> {
  if (tables.length === 0) return;
  await output.writeText(VIEWS_KEY, viewsSql(output.uri, tables));
}
