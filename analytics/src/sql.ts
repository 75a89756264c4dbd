/** SQL text helpers shared by the query builders. */

/** A double-quoted DuckDB identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A single-quoted DuckDB string literal. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A DuckDB list literal of strings, e.g. for `read_parquet([...])`. */
export function literalList(values: readonly string[]): string {
  return `[${values.map(literal).join(", ")}]`;
}

/**
 * `read_parquet` over local files. Hive partitioning is off: the sink's `partition=<n>` folders are not
 * data columns. `unionByName` reads files written under different schemas (missing columns are NULL).
 */
export function readParquet(paths: readonly string[], unionByName = false): string {
  return `read_parquet(${literalList(paths)}, hive_partitioning = false${unionByName ? ", union_by_name = true" : ""})`;
}
