/**
 * One text form per column value, computed by PostgreSQL from the source table and by DuckDB from the SCD2
 * output, so the two can be compared exactly: timestamps as epoch microseconds, numerics, dates, JSON, UUIDs
 * and booleans as their canonical text. The forms follow the column's DDL type (connectors/database).
 */
import type { ColumnDefinition } from "../../../connectors/database";
import { quoteIdent } from "../../../connectors/database";

/** A row in canonical form: column name → text, null for SQL NULL. */
export type Row = Record<string, string | null>;

type Form = "text" | "epoch-micros";

function formOf(column: ColumnDefinition): Form {
  const type = column.type.split(" ")[0]!;
  if (type === "timestamptz" || /^timestamp(\(\d\))?$/.test(type)) return "epoch-micros";
  if (/^(bigint|integer|text|numeric\(\d+,\d+\)|jsonb|boolean|date|uuid)$/.test(type)) return "text";
  throw new Error(`no canonical form for column ${column.name} of type ${column.type}`);
}

/** PostgreSQL: the column of the source table. */
export function pgCanonical(column: ColumnDefinition): string {
  const c = quoteIdent(column.name);
  const expression =
    formOf(column) === "epoch-micros" ? `(extract(epoch FROM ${c}) * 1000000)::bigint::text` : `${c}::text`;
  return `${expression} AS ${c}`;
}

/** DuckDB: the same column of the SCD2 output (decoded by the job from Debezium's encoding). */
export function duckCanonical(column: ColumnDefinition): string {
  const c = quoteIdent(column.name);
  const expression =
    formOf(column) === "epoch-micros" ? `CAST(epoch_us(${c}) AS VARCHAR)` : `CAST(${c} AS VARCHAR)`;
  return `${expression} AS ${c}`;
}
