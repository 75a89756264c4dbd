/**
 * Comparing PostgreSQL rows with SCD2 rows (DuckDB) column by column, as text: shared by the
 * end-to-end tests (tests/local/end-to-end.test.ts, tests/local/npm-start-external.test.ts).
 */
import type { ColumnDefinition } from "../../connectors/database";

export type Row = Record<string, string | null>;

/** A column of PostgreSQL as comparable text: timestamps as epoch microseconds, the rest as ::text. */
export function pgText(column: ColumnDefinition): string {
  const c = `"${column.name}"`;
  return column.type.startsWith("timestamp")
    ? `(extract(epoch FROM ${c}) * 1000000)::bigint::text AS ${c}`
    : `${c}::text AS ${c}`;
}

/** The same column of the SCD2 table (DuckDB), in the same text form. */
export function duckText(name: string, duckType: string): string {
  const c = `"${name}"`;
  if (duckType.startsWith("TIMESTAMP")) return `CAST(epoch_us(${c}) AS VARCHAR) AS ${c}`;
  if (duckType === "BOOLEAN")
    return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN 'true' ELSE 'false' END AS ${c}`;
  return `CAST(${c} AS VARCHAR) AS ${c}`;
}

const show = (v: string | null | undefined): string =>
  v === undefined
    ? "(absent)"
    : v === null
      ? "NULL"
      : v.length > 60
        ? `${v.slice(0, 20)}...(${v.length} chars)`
        : JSON.stringify(v);

/** Every difference between PostgreSQL's rows and the SCD2 rows, one line each (empty when equal). */
export function differences(expected: Row[], actual: Row[]): string[] {
  const byId = (rows: Row[]) => new Map(rows.map((r) => [r.id, r]));
  const [want, got] = [byId(expected), byId(actual)];
  const lines: string[] = [];
  if (got.size !== actual.length)
    lines.push(`SCD2 has ${actual.length - got.size} duplicate versions valid at once`);
  for (const [id, row] of want) {
    const other = got.get(id);
    if (!other) lines.push(`id ${id}: in PostgreSQL, missing in SCD2`);
    else
      for (const column of Object.keys(row)) {
        if (row[column] !== other[column])
          lines.push(
            `id ${id}: ${column} is ${show(other[column])} in SCD2, ${show(row[column])} in PostgreSQL`,
          );
      }
  }
  for (const id of got.keys()) if (!want.has(id)) lines.push(`id ${id}: in SCD2, not in PostgreSQL`);
  return lines;
}
