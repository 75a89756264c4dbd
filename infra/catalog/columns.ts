/**
 * The columns of an SCD2 table as the job writes them, derived from the source table's DDL
 * (connectors/database/tables.ts): each PostgreSQL type goes through Debezium's mapping under the
 * source connector's defaults (`decimal.handling.mode=precise`, `time.precision.mode=adaptive`,
 * docs/data-contract.md §3) and the job's decoding (docs/analytics.md, "Decoding") to a DuckDB type,
 * which the Glue table declares as its Hive type (common/catalog.ts, shared with the job).
 * tests/infra/catalog.test.ts holds the result to the schema of real job output.
 */
import { catalogColumn, SCD2_COLUMNS, type CatalogColumn } from "../../common/catalog";
import type { ColumnDefinition, TableDefinition } from "../../connectors/database";

/** PostgreSQL type (as written in DDL, lower case, without modifiers after the name) → DuckDB output type. */
const BY_POSTGRES_TYPE: Record<string, string> = {
  bigint: "BIGINT",
  int8: "BIGINT",
  integer: "INTEGER",
  int: "INTEGER",
  int4: "INTEGER",
  boolean: "BOOLEAN",
  bool: "BOOLEAN",
  "double precision": "DOUBLE",
  float8: "DOUBLE",
  text: "VARCHAR",
  varchar: "VARCHAR",
  "character varying": "VARCHAR",
  uuid: "VARCHAR",
  json: "VARCHAR",
  jsonb: "VARCHAR",
  date: "DATE",
  // ZonedTimestamp: an ISO string with offset, decoded to TIMESTAMPTZ.
  timestamptz: "TIMESTAMP WITH TIME ZONE",
  "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
  // MicroTimestamp (precision 4-6) or Timestamp (0-3): both decoded to TIMESTAMP.
  timestamp: "TIMESTAMP",
  "timestamp without time zone": "TIMESTAMP",
  // numeric without (p,s) is Debezium's VariableScaleDecimal: no single DECIMAL fits, the job writes DOUBLE.
  numeric: "DOUBLE",
  // MicroDuration (interval.handling.mode=numeric): microseconds, written as BIGINT (Parquet's INTERVAL
  // holds no negative value and wraps past 49.7 days).
  interval: "BIGINT",
};

/**
 * The DuckDB type the job writes for a column of `pgType` (DDL spelling). Throws naming the type for one
 * this mapping does not cover, so a new column of such a type fails `pulumi preview`, not a query.
 */
export function outputTypeOfPostgres(pgType: string): string {
  const type = pgType
    .toLowerCase()
    .replace(/\s+generated\b.*$/, "")
    .trim();
  const decimal = /^(?:numeric|decimal)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(type);
  if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
  const base = type.replace(/\s*\(\s*\d+\s*\)/, "");
  const duckType = BY_POSTGRES_TYPE[base];
  if (duckType === undefined) {
    throw new Error(
      `PostgreSQL type "${pgType}" has no catalog mapping (infra/catalog/columns.ts); known: ${Object.keys(BY_POSTGRES_TYPE).join(", ")}, numeric(p,s)`,
    );
  }
  return duckType;
}

/** Every column of the SCD2 table of `table`, in the order of the files. */
export function scd2CatalogColumns(
  table: Pick<TableDefinition, "qualifiedName" | "columns">,
): CatalogColumn[] {
  const source = table.columns.map((c: ColumnDefinition) => {
    try {
      return catalogColumn(c.name, outputTypeOfPostgres(c.type));
    } catch (error) {
      throw new Error(`${table.qualifiedName}.${c.name}: ${(error as Error).message}`);
    }
  });
  return [...source, ...SCD2_COLUMNS.map((c) => catalogColumn(c.name, c.duckType))];
}
