/**
 * Athena views stored in the Glue catalog: `<table>_current` and `<table>_history` over the SCD2 table.
 * Glue holds an Athena view as a VIRTUAL_VIEW table whose `viewOriginalText` is the base64 JSON
 * Athena writes itself for `CREATE VIEW` ("Presto View"), so the stack declares them like any table and
 * `pulumi destroy` removes them.
 */
import type { CatalogColumn } from "./columns";

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
 * prunes every history file); `_history` reads both.
 */
export function athenaViews(
  database: string,
  table: string,
  columns: readonly CatalogColumn[],
): AthenaView[] {
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

/** `viewOriginalText` of a Glue VIRTUAL_VIEW table as Athena writes it. */
export function prestoViewText(
  database: string,
  view: AthenaView,
  columns: readonly CatalogColumn[],
): string {
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
