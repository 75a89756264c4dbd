import type { LocalSourceFile } from "../decode/stage";
import { ROW_ID, stageEvents } from "../decode/stage";
import type { SourceFile } from "../discovery";
import type { Duck } from "../duck";
import { Scd2Error } from "../errors";
import { ident } from "../sql";
import type { Storage } from "../storage/storage";
import type { ColumnEncoding, ProgressEvent } from "../types";
import type { Column, TableShape } from "./shape";
import { EVENT_META, list } from "./shape";

/** What staging needs to know about the table (a subset of ResolvedTable). */
export interface StageSpec {
  table: string;
  primaryKey: string[];
  columnTypes: Record<string, ColumnEncoding>;
}

export interface StageContext {
  source: Storage;
  stagingDir: string;
  onProgress?: (event: ProgressEvent) => void;
}

const DOWNLOAD_CONCURRENCY = 8;

export async function download(
  source: Storage,
  files: readonly SourceFile[],
  stagingDir: string,
): Promise<LocalSourceFile[]> {
  const result = new Array<LocalSourceFile>(files.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) {
      const file = files[i] as SourceFile;
      result[i] = { file, path: await source.localCopy(file.key, stagingDir) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, files.length) }, worker));
  return result;
}

/** The staged columns merged into the stored ones: stored order first, types widened where they differ. */
export async function mergeColumns(
  duck: Duck,
  table: string,
  stored: readonly Column[],
  staged: readonly Column[],
) {
  const columns = [...stored];
  let changed = false;
  for (const column of staged) {
    const index = columns.findIndex((c) => c.name === column.name);
    const existing = columns[index];
    if (existing === undefined) {
      columns.push(column);
      changed = true;
    } else if (existing.type !== column.type) {
      const [row] = await duck
        .rows(
          `SELECT typeof(x) AS t FROM (SELECT NULL::${existing.type} AS x UNION ALL SELECT NULL::${column.type}) LIMIT 1`,
        )
        .catch(() => [] as { t?: unknown }[]);
      if (row?.t === undefined) {
        throw new Scd2Error(
          `${table}: column ${column.name} changed from ${existing.type} to ${column.type}; run a full refresh`,
        );
      }
      changed ||= row.t !== existing.type;
      columns[index] = { name: column.name, type: String(row.t) };
    }
  }
  return { columns, changed };
}

/**
 * Stages source files into `name` (a view of events in the table's columns); returns the staged columns.
 * `progress` reports files read; `inPlace` reads Parquet files where they are (see StageRequest);
 * `tableColumns` are the table's stored columns (see StageRequest).
 */
export async function stage(
  ctx: StageContext,
  duck: Duck,
  spec: StageSpec,
  files: readonly SourceFile[],
  name: string,
  options: { progress: boolean; inPlace: boolean; tableColumns: readonly Column[] },
): Promise<Column[]> {
  const local = await download(ctx.source, files, ctx.stagingDir);
  await stageEvents(duck, {
    table: spec.table,
    primaryKey: spec.primaryKey,
    columnTypes: spec.columnTypes,
    files: local,
    target: `${name}_raw`,
    inPlace: options.inPlace,
    tableColumns: new Map(options.tableColumns.map((c) => [c.name, c.type])),
    onFilesRead: (done) =>
      options.progress &&
      ctx.onProgress?.({ type: "files-read", table: spec.table, done, total: files.length }),
  });
  const columns = await duck.rows(`DESCRIBE SELECT * FROM ${name}_raw`);
  return columns
    .map((r) => ({ name: String(r.column_name), type: String(r.column_type) }))
    .filter((c) => !(EVENT_META as readonly string[]).includes(c.name) && c.name !== ROW_ID);
}

/** A view of staged events in the table's columns and types (a column the files lack is NULL). */
export async function alignStaged(
  duck: Duck,
  shape: TableShape,
  staged: readonly Column[],
  name: string,
): Promise<void> {
  const present = new Set(staged.map((c) => c.name));
  const columns = shape.columns.map(
    (c) => `CAST(${present.has(c.name) ? ident(c.name) : "NULL"} AS ${c.type}) AS ${ident(c.name)}`,
  );
  await duck.run(
    `CREATE TEMP VIEW ${name} AS SELECT ${columns.join(", ")}, ${list(EVENT_META)}, ${ROW_ID} FROM ${name}_raw`,
  );
}
