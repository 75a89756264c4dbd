/**
 * What the job changes in a Glue table and its Athena views after a run, from the columns of the SCD2
 * files (the committed manifest's) and what Glue declares: pure functions, the Glue calls are in
 * glue.ts. A column only the files have is added; a column is never removed (older files, or the stack's
 * declaration, still hold it) nor retyped (files written before hold the old type): a type that differs
 * is a problem to report, naming the column.
 */
import {
  athenaViews,
  glueTypeOf,
  prestoViewText,
  SCD2_COLUMNS,
  type GlueColumn,
} from "../../../common/catalog";

/** A column of the SCD2 files: its name and the DuckDB type the job writes. */
export interface FileColumn {
  readonly name: string;
  readonly type: string;
}

export interface ColumnPlan {
  /** The Glue table's columns after the update: the files' order, then columns only Glue has. */
  readonly columns: GlueColumn[];
  /** Columns the files have and Glue lacks, in the files' order; none: Glue is left as it is. */
  readonly added: string[];
  /** Columns that cannot be declared as the files hold them, each naming `<table>.<column>`. */
  readonly problems: string[];
}

/** Glue stores `decimal(12,2)`; a hand-made table may say `DECIMAL(12, 2)`. */
const sameType = (a: string, b: string): boolean =>
  a.replace(/\s+/g, "").toLowerCase() === b.replace(/\s+/g, "").toLowerCase();

/** Every column of the SCD2 files of a table whose source columns are `source` (manifest order). */
export function fileColumns(source: readonly FileColumn[]): FileColumn[] {
  return [...source, ...SCD2_COLUMNS.map((c) => ({ name: c.name, type: c.duckType }))];
}

/** How the Glue table `table` (declaring `declared`) must change to hold the columns of `files`. */
export function planColumns(
  table: string,
  declared: readonly GlueColumn[],
  files: readonly FileColumn[],
): ColumnPlan {
  const byName = new Map(declared.map((c) => [c.name.toLowerCase(), c]));
  const problems: string[] = [];
  const fromFiles: GlueColumn[] = [];
  const added: string[] = [];
  const seen = new Map<string, string>();
  for (const column of files) {
    const name = column.name.toLowerCase();
    const clash = seen.get(name);
    if (clash !== undefined) {
      problems.push(
        `${table}.${column.name}: Glue lowercases column names, and the files also have ${clash}`,
      );
      continue;
    }
    seen.set(name, column.name);
    let glueType: string;
    try {
      glueType = glueTypeOf(column.type);
    } catch (error) {
      problems.push(`${table}.${column.name}: ${(error as Error).message}; the column is not added to Glue`);
      continue;
    }
    const existing = byName.get(name);
    if (existing === undefined) {
      added.push(name);
      fromFiles.push({ name, glueType });
    } else {
      if (!sameType(existing.glueType, glueType)) {
        problems.push(
          `${table}.${column.name}: the files hold ${glueType} (DuckDB ${column.type}) but Glue declares ${existing.glueType}; ` +
            "the job never retypes a Glue column (files written before hold the old type)",
        );
      }
      fromFiles.push(existing);
    }
  }
  if (added.length === 0) return { columns: [...declared], added, problems };
  const inFiles = new Set(fromFiles.map((c) => c.name.toLowerCase()));
  const onlyInGlue = declared.filter((c) => !inFiles.has(c.name.toLowerCase()));
  return { columns: [...fromFiles, ...onlyInGlue], added, problems };
}

/** The two Athena views of `table` over `columns`, with their text as Glue stores it. */
export function viewTexts(
  database: string,
  table: string,
  columns: readonly GlueColumn[],
): { name: string; text: string }[] {
  return athenaViews(database, table, columns).map((view) => ({
    name: view.name,
    text: prestoViewText(database, view, columns),
  }));
}
