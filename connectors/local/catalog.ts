/** Reads a table's columns and primary key from the PostgreSQL catalog (what Debezium reads over JDBC). */
import type pg from "pg";
import type { ColumnInfo } from "./pg-types";

/** Session settings under which PostgreSQL prints values the way the converters parse them. */
export const SESSION_OPTIONS =
  "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=iso_8601 -c extra_float_digits=3";

export interface TableInfo {
  schema: string;
  table: string;
  columns: ColumnInfo[];
  primaryKey: string[];
}

const COLUMNS_SQL = `
SELECT a.attname AS name, t.typname AS type_name, t.typtype AS type_type, dt.typtype = 'd' AS domain,
       CASE WHEN dt.typtype = 'd' THEN dt.typtypmod ELSE a.atttypmod END AS typmod,
       a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default_expr,
       et.typname AS elem_name, et.typtype AS elem_type,
       (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
         WHERE e.enumtypid = COALESCE(et.oid, t.oid)) AS enum_labels,
       COALESCE((SELECT true FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary
                  AND a.attnum = ANY(i.indkey)), false) AS in_pk,
       (SELECT array_position(i.indkey::int2[], a.attnum) FROM pg_index i
         WHERE i.indrelid = a.attrelid AND i.indisprimary) AS pk_pos
FROM pg_attribute a
JOIN pg_type dt ON dt.oid = a.atttypid
-- A domain is captured as its base type with the domain's modifier, as Debezium (via pgjdbc) resolves it.
JOIN pg_type t ON t.oid = CASE WHEN dt.typtype = 'd' THEN dt.typbasetype ELSE dt.oid END
LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`;

interface ColumnRow {
  name: string;
  type_name: string;
  type_type: string;
  domain: boolean;
  typmod: number;
  not_null: boolean;
  default_expr: string | null;
  elem_name: string | null;
  elem_type: string | null;
  enum_labels: string[] | null;
  in_pk: boolean;
  pk_pos: number | null;
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export async function readTableInfo(client: pg.Client, schema: string, table: string): Promise<TableInfo> {
  const { rows } = await client.query<ColumnRow>(COLUMNS_SQL, [`${quoteIdent(schema)}.${quoteIdent(table)}`]);
  if (rows.length === 0) throw new Error(`table ${schema}.${table} does not exist or has no columns`);
  const columns = rows.map((r): ColumnInfo => {
    const enumLabels = r.enum_labels ?? undefined;
    const base = { name: r.name, notNull: r.not_null, defaultExpr: r.default_expr, domain: r.domain };
    if (r.elem_name !== null) {
      // Array typmod is the element's typmod.
      return {
        ...base,
        typeName: r.type_name,
        typeType: r.type_type,
        typmod: r.typmod,
        element: { typeName: r.elem_name, typeType: r.elem_type ?? "b", typmod: r.typmod, enumLabels },
      };
    }
    return { ...base, typeName: r.type_name, typeType: r.type_type, typmod: r.typmod, enumLabels };
  });
  const primaryKey = rows
    .filter((r) => r.in_pk)
    .sort((a, b) => (a.pk_pos ?? 0) - (b.pk_pos ?? 0))
    .map((r) => r.name);
  return { schema, table, columns, primaryKey };
}
