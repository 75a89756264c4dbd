/**
 * How an SCD2 table appears in the Glue Data Catalog, shared by the stack (infra/catalog/, which creates
 * the Glue tables and Athena views) and the SCD2 job (analytics/src/catalog/, which adds the columns a
 * source table gained to them after a run): the columns the job appends to every table, the Hive type
 * Glue declares for each DuckDB type the job writes, and the Athena views as Glue stores them. One
 * implementation, so a view the job rewrites is the view the stack would declare for the same columns.
 */

/** A column of the Glue table: its name as Glue stores it (lower case) and its Hive type. */
export interface GlueColumn {
  readonly name: string;
  readonly glueType: string;
}

/** A column with the DuckDB type the job writes and the Glue (Hive) type the catalog declares. */
export interface CatalogColumn extends GlueColumn {
  readonly duckType: string;
}

/** The SCD2 and lineage columns the job writes after the source columns (docs/analytics.md, "Output"). */
export const SCD2_COLUMNS: readonly { name: string; duckType: string }[] = [
  { name: "effective_from", duckType: "TIMESTAMP WITH TIME ZONE" },
  { name: "effective_to", duckType: "TIMESTAMP WITH TIME ZONE" },
  { name: "is_current", duckType: "BOOLEAN" },
  { name: "is_deleted", duckType: "BOOLEAN" },
  { name: "is_deleted_inferred", duckType: "BOOLEAN" },
  { name: "__op", duckType: "VARCHAR" },
  { name: "__lsn", duckType: "BIGINT" },
  { name: "__txId", duckType: "BIGINT" },
  { name: "__source_file", duckType: "VARCHAR" },
  { name: "__kafka_partition", duckType: "INTEGER" },
  { name: "__kafka_offset", duckType: "BIGINT" },
];

const GLUE_TYPES: Record<string, string> = {
  BIGINT: "bigint",
  INTEGER: "int",
  BOOLEAN: "boolean",
  DOUBLE: "double",
  VARCHAR: "string",
  DATE: "date",
  // Both are Parquet INT64 micros; Athena reads them as timestamp (UTC for the adjusted one).
  TIMESTAMP: "timestamp",
  "TIMESTAMP WITH TIME ZONE": "timestamp",
};

/** The Hive type Glue declares for a DuckDB type the job writes; throws naming a type it has none for. */
export function glueTypeOf(duckType: string): string {
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(duckType);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  const glue = GLUE_TYPES[duckType];
  if (glue === undefined) throw new Error(`DuckDB type ${duckType} has no Glue type (common/catalog.ts)`);
  return glue;
}

/** The column `name` of DuckDB type `duckType` as the catalog declares it. */
export const catalogColumn = (name: string, duckType: string): CatalogColumn => ({
  name: name.toLowerCase(),
  duckType,
  glueType: glueTypeOf(duckType),
});

/** The partition column the Glue table projects over the two folders of an SCD2 table. */
export const FILE_SET_COLUMN = "file_set";
export const FILE_SETS = ["history", "current"] as const;

/** Presto type names Athena's view JSON uses for the Hive types the catalog declares. */
function prestoType(glueType: string): string {
  if (glueType === "string") return "varchar";
  if (glueType === "int") return "integer";
  if (glueType === "timestamp") return "timestamp(3)";
  return glueType;
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export interface AthenaView {
  /** `<table>_current` or `<table>_history`. */
  readonly name: string;
  readonly sql: string;
  readonly description: string;
}

/**
 * The two views of an SCD2 table. `_current` reads only the `current` folder (partition projection
 * prunes every history file); `_history` reads both. They name their columns, so a column the table
 * gains appears in a view only once the view is written again.
 */
export function athenaViews(database: string, table: string, columns: readonly GlueColumn[]): AthenaView[] {
  const select = columns.map((c) => quote(c.name)).join(", ");
  const from = `${quote(database)}.${quote(table)}`;
  return [
    {
      name: `${table}_current`,
      sql: `SELECT ${select} FROM ${from} WHERE ${FILE_SET_COLUMN} = 'current'`,
      description: `One row per live key of ${table}: its version valid now.`,
    },
    {
      name: `${table}_history`,
      sql: `SELECT ${select} FROM ${from}`,
      description: `Every version of ${table}, valid over [effective_from, effective_to).`,
    },
  ];
}

/**
 * `viewOriginalText` of a Glue VIRTUAL_VIEW table as Athena writes it for `CREATE VIEW`: the base64
 * JSON of the SQL and of the view's output columns with their Presto types. Athena checks those columns
 * against what the SQL returns over the tables as they are now; a view whose stored columns no longer
 * match is "stale" and fails every query until it is written again.
 */
export function prestoViewText(database: string, view: AthenaView, columns: readonly GlueColumn[]): string {
  const json = {
    originalSql: view.sql,
    catalog: "awsdatacatalog",
    schema: database,
    columns: columns.map((c) => ({ name: c.name, type: prestoType(c.glueType) })),
    owner: "cdc-pipeline",
    runAsInvoker: false,
    properties: {},
  };
  return `/* Presto View: ${Buffer.from(JSON.stringify(json)).toString("base64")} */`;
}

/** The view parameters and placeholder expanded text Athena stores with every view. */
export const PRESTO_VIEW_PARAMETERS: Readonly<Record<string, string>> = {
  presto_view: "true",
  comment: "Presto View",
};
export const PRESTO_VIEW_EXPANDED_TEXT = "/* Presto View */";
