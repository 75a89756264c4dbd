/**
 * What `npm start` prints at the end: per table, the changes the workload made, the change records
 * in the bucket, and the SCD2 job's figures; then the full SCD2 history of one product.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { duckQuery } from "./bucket";

/** The SCD2 files of `table` (closed versions and current versions), from the job's manifest. */
export function scd2TableFiles(outputDir: string, table: string): string[] {
  const manifestPath = join(outputDir, "_state", "manifest.json");
  if (!existsSync(manifestPath)) throw new Error(`no SCD2 manifest at ${manifestPath}`);
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    tables?: Record<string, { history: { key: string }[]; current: { key: string } }>;
  };
  const state = manifest.tables?.[table];
  if (!state) throw new Error(`the SCD2 manifest ${manifestPath} has no table ${table}`);
  return [...state.history.map((f) => f.key), state.current.key].map((key) => join(outputDir, key));
}

/** `read_parquet([...])` over the SCD2 files of `table`. */
export function scd2Relation(outputDir: string, table: string): string {
  const files = scd2TableFiles(outputDir, table).map((f) => `'${f.replace(/'/g, "''")}'`);
  return `read_parquet([${files.join(", ")}], union_by_name = true)`;
}

export interface SummaryRow {
  table: string;
  /** Row changes the workload committed (inserts + updates + deletes; a key change counts 2). */
  changes: number;
  /** Change records in the bucket (snapshot reads included). */
  captured: number;
  files: number;
  versions: number;
  current: number;
  deleted: number;
}

/** An aligned text table, numbers right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [header, ...rows.map((r) => r.map((v) => (v === null || v === undefined ? "" : String(v))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  return cells
    .map((r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  "))
    .join("\n")
    .replace(/ +$/gm, "");
}

export function formatSummary(rows: readonly SummaryRow[]): string {
  return formatTable(
    ["table", "changes made", "events captured", "files", "versions", "current rows", "deleted keys"],
    rows.map((r) => [r.table, r.changes, r.captured, r.files, r.versions, r.current, r.deleted]),
  );
}

/** Versions, current rows and deleted keys (keys without a current version) of an SCD2 table keyed by `id`. */
export async function scd2Figures(
  outputDir: string,
  table: string,
): Promise<{ versions: number; current: number; deleted: number }> {
  const relation = scd2Relation(outputDir, table);
  const [row] = await duckQuery(
    `SELECT count(*) AS versions, count(*) FILTER (WHERE is_current) AS current,
            (SELECT count(*) FROM (SELECT id FROM ${relation} GROUP BY id HAVING NOT bool_or(is_current))) AS deleted
     FROM ${relation}`,
  );
  return { versions: Number(row!.versions), current: Number(row!.current), deleted: Number(row!.deleted) };
}

/** The product whose history shows the most: a key that was deleted (and came back) first, then the most versions. */
export async function productToShow(outputDir: string): Promise<number | undefined> {
  const rows = await duckQuery(
    `SELECT id FROM ${scd2Relation(outputDir, "commerce.products")} GROUP BY id
     ORDER BY bool_or(is_deleted) AND bool_or(is_current) DESC, count(*) DESC, id LIMIT 1`,
  );
  return rows[0] === undefined ? undefined : Number(rows[0].id);
}

/** Every SCD2 version of one product, oldest first, as printable text. */
export async function formatProductHistory(outputDir: string, id: number): Promise<string> {
  const rows = await duckQuery(
    `SELECT strftime(effective_from AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%g') AS effective_from,
            strftime(effective_to AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%g') AS effective_to,
            is_current, is_deleted, __op AS op, sku, name, CAST(price AS VARCHAR) AS price, in_stock,
            length(description) AS description_chars
     FROM ${scd2Relation(outputDir, "commerce.products")} WHERE id = ${id}
     ORDER BY effective_from, __lsn`,
  );
  const header = Object.keys(rows[0] ?? { effective_from: "" });
  return formatTable(
    header,
    rows.map((r) => header.map((h) => r[h])),
  );
}
