import * as path from "node:path";
import type { Logger } from "pino";
import type { LocalSourceFile } from "../decode/stage";
import { stageEvents } from "../decode/stage";
import type { SourceFile } from "../discovery";
import { discoverSourceFiles } from "../discovery";
import { Duck } from "../duck";
import type { DuckOptions } from "../duck";
import { Scd2Error } from "../errors";
import { placeholderTest } from "../decode/columns";
import { ident, readParquet } from "../sql";
import type { FileEntry, TableState } from "../state/manifest";
import { STATE_DIR, referencedKeys } from "../state/manifest";
import type { Storage } from "../storage/storage";
import type { ColumnEncoding, ProgressEvent, TableSummary } from "../types";
import { alignedView, localCopies, writeParquet } from "./files";
import * as inc from "./incremental";
import { buildVersions, collapseEvents, dropUnchanged } from "./pipeline";
import type { Column, TableShape } from "./shape";
import { EVENT_META, KEY_STATE, keyList, list, outputColumns } from "./shape";

export interface TableRunContext {
  source: Storage;
  output: Storage;
  runId: string;
  fullRefresh: boolean;
  duck: DuckOptions;
  /** Downloads of source and state objects. */
  stagingDir: string;
  /** Files written before upload. */
  scratchDir: string;
  onProgress?: (event: ProgressEvent) => void;
  logger?: Logger;
}

export interface ResolvedTable {
  table: string;
  topic: string;
  /** Output folder: the table name without its schema. */
  dir: string;
  primaryKey: string[];
  columnTypes: Record<string, ColumnEncoding>;
}

export interface TableRunResult {
  /** The table's state to commit (undefined: the table has no data). */
  state: TableState | undefined;
  /** Objects the new state no longer references, deleted after the commit. */
  superseded: string[];
  summary: TableSummary;
}

const DOWNLOAD_CONCURRENCY = 8;

function summarize(
  table: string,
  state: TableState | undefined,
  files: number,
  events: number,
  started: number,
): TableSummary {
  const history = state?.history ?? [];
  const closed = history.reduce((n, f) => n + f.rows, 0);
  return {
    table,
    files,
    events,
    versions: closed + (state?.current.rows ?? 0),
    current: state?.current.rows ?? 0,
    deleted: history.reduce((n, f) => n + f.deleted, 0),
    durationMs: Date.now() - started,
  };
}

async function downloadSources(ctx: TableRunContext, files: SourceFile[]): Promise<LocalSourceFile[]> {
  const result: LocalSourceFile[] = new Array<LocalSourceFile>(files.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) {
      const file = files[i] as SourceFile;
      result[i] = { file, path: await ctx.source.localCopy(file.key, ctx.stagingDir) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, files.length) }, worker));
  return result;
}

/** The staged columns merged into the stored ones: stored order first, types widened where they differ. */
async function mergeColumns(duck: Duck, table: string, stored: readonly Column[], staged: readonly Column[]) {
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

/** Columns that hold the unavailable-value placeholder somewhere in this run's changes. */
async function placeholderColumns(duck: Duck, shape: TableShape, relation: string): Promise<Set<string>> {
  const tests = shape.columns.flatMap((c) => {
    const test = placeholderTest(c.name, c.type);
    return test ? [`bool_or(${test}) AS ${ident(c.name)}`] : [];
  });
  if (tests.length === 0) return new Set();
  const [row] = await duck.rows(`SELECT ${tests.join(", ")} FROM ${relation}`);
  return new Set(Object.entries(row ?? {}).flatMap(([name, any]) => (any === true ? [name] : [])));
}

/** Builds or updates one table's SCD2 output. Writes only new objects; the caller commits the state. */
export async function runTable(
  ctx: TableRunContext,
  spec: ResolvedTable,
  previous: TableState | undefined,
): Promise<TableRunResult> {
  const started = Date.now();
  const prev = ctx.fullRefresh ? undefined : previous;
  if (prev && prev.primaryKey.join(",") !== spec.primaryKey.join(",")) {
    throw new Scd2Error(
      `${spec.table}: primary key changed from (${prev.primaryKey.join(", ")}) to (${spec.primaryKey.join(", ")}); run a full refresh`,
    );
  }
  const files = discoverSourceFiles(await ctx.source.list(`${spec.topic}/`), spec.topic);
  const fresh = prev ? files.filter((f) => prev.processed[f.key] !== f.etag) : files;
  ctx.onProgress?.({ type: "table-started", table: spec.table, files: fresh.length });
  ctx.logger?.info({ table: spec.table, files: fresh.length, fullRefresh: ctx.fullRefresh }, "table started");
  if (fresh.length === 0) {
    const superseded = previous && ctx.fullRefresh ? referencedKeys(previous) : [];
    return { state: prev, superseded, summary: summarize(spec.table, prev, 0, 0, started) };
  }
  const duck = await Duck.open(ctx.duck);
  try {
    return await build(ctx, spec, prev, previous, fresh, duck, started);
  } finally {
    duck.close();
  }
}

async function build(
  ctx: TableRunContext,
  spec: ResolvedTable,
  prev: TableState | undefined,
  previous: TableState | undefined,
  fresh: SourceFile[],
  duck: Duck,
  started: number,
): Promise<TableRunResult> {
  const local = await downloadSources(ctx, fresh);
  await stageEvents(duck, {
    table: spec.table,
    primaryKey: spec.primaryKey,
    columnTypes: spec.columnTypes,
    files: local,
    target: "scd2_staged",
    onFilesRead: (done) =>
      ctx.onProgress?.({ type: "files-read", table: spec.table, done, total: fresh.length }),
  });
  const staged = (await duck.rows("DESCRIBE SELECT * FROM scd2_staged"))
    .map((r) => ({ name: String(r.column_name), type: String(r.column_type) }))
    .filter((c) => !(EVENT_META as readonly string[]).includes(c.name));
  const merged = await mergeColumns(duck, spec.table, prev?.columns ?? [], staged);
  const shape: TableShape = { primaryKey: spec.primaryKey, columns: merged.columns };
  const stagedNames = new Set(staged.map((c) => c.name));
  const aligned = shape.columns.map(
    (c) => `CAST(${stagedNames.has(c.name) ? ident(c.name) : "NULL"} AS ${c.type}) AS ${ident(c.name)}`,
  );
  await duck.run(
    `CREATE TEMP TABLE scd2_new0 AS SELECT ${aligned.join(", ")}, ${list(EVENT_META)} FROM scd2_staged`,
  );
  const events = await duck.count("SELECT count(*) FROM scd2_new0");

  const key = (kind: string) => `${STATE_DIR}/${spec.table}/${kind}/${ctx.runId}.parquet`;
  const out = (kind: string) => `${spec.dir}/${kind}/${ctx.runId}.parquet`;
  const write = (query: string, objectKey: string) =>
    writeParquet(duck, ctx.output, query, objectKey, ctx.scratchDir);

  let recomputed = 0;
  if (prev) {
    recomputed = await classify(ctx, duck, shape, prev);
  } else {
    await duck.run("CREATE TEMP VIEW scd2_input AS SELECT * FROM scd2_new0");
    await duck.run("CREATE TEMP VIEW scd2_new AS SELECT * FROM scd2_new0");
  }
  const carry = await placeholderColumns(duck, shape, "scd2_input");
  await duck.run(`CREATE TEMP TABLE scd2_a AS ${collapseEvents(shape, "scd2_input", carry)}`);
  await duck.run(
    `CREATE TEMP TABLE scd2_v AS ${buildVersions(shape, `(${dropUnchanged(shape, "scd2_a")})`)}`,
  );
  const output = list(outputColumns(shape));

  const history: FileEntry[] = [];
  const superseded: string[] = [];
  if (prev) {
    const rewrite = await rewriteHistory(
      ctx,
      duck,
      shape,
      prev,
      merged.changed,
      recomputed,
      out("history").replace(".parquet", "-rewrite.parquet"),
    );
    history.push(...rewrite.kept);
    if (rewrite.written) history.push(rewrite.written);
    superseded.push(...rewrite.superseded, prev.current.key, prev.keys);
  } else if (previous) {
    superseded.push(...referencedKeys(previous));
  }
  if ((await duck.count("SELECT count(*) FROM scd2_v WHERE NOT is_current")) > 0) {
    history.push({
      key: out("history"),
      ...(await write(`SELECT ${output} FROM scd2_v WHERE NOT is_current`, out("history"))),
    });
  }
  const currentQuery = prev
    ? `SELECT ${output} FROM (${inc.whereKeys(shape, "scd2_cur", "scd2_affected", true)}) UNION ALL SELECT ${output} FROM scd2_v WHERE is_current`
    : `SELECT ${output} FROM scd2_v WHERE is_current`;
  const current = { key: out("current"), ...(await write(currentQuery, out("current"))) };
  const keysQuery = prev
    ? inc.nextKeyState(shape, "scd2_keys", "scd2_affected", "scd2_a")
    : `SELECT ${keyList(shape)}, ${list(KEY_STATE)} FROM scd2_a WHERE _last`;
  await write(keysQuery, key("keys"));
  await write(`SELECT * FROM scd2_new`, key("events"));

  const processed = Object.fromEntries(fresh.map((f) => [f.key, f.etag]));
  const state: TableState = {
    topic: spec.topic,
    primaryKey: spec.primaryKey,
    columns: shape.columns.map((c) => ({ ...c })),
    processed: { ...(prev?.processed ?? {}), ...processed },
    history,
    current,
    keys: key("keys"),
    events: [...(prev?.events ?? []), key("events")],
  };
  ctx.logger?.info(
    { table: spec.table, events, recomputedKeys: recomputed, schemaChanged: merged.changed && !!prev },
    "table built",
  );
  return { state, superseded, summary: summarize(spec.table, state, fresh.length, events, started) };
}

/**
 * Incremental input: loads the stored key state and current versions, drops exact re-deliveries, finds
 * the keys to recompute, and creates `scd2_new`, `scd2_affected` and `scd2_input`. Returns how many keys
 * are recomputed.
 */
async function classify(
  ctx: TableRunContext,
  duck: Duck,
  shape: TableShape,
  prev: TableState,
): Promise<number> {
  const [keysPath, currentPath] = await localCopies(
    ctx.output,
    [prev.keys, prev.current.key],
    ctx.stagingDir,
  );
  await duck.run(`CREATE TEMP VIEW scd2_keys AS SELECT * FROM ${readParquet([keysPath as string])}`);
  const lineage = outputColumns(shape).slice(shape.columns.length);
  await alignedView(duck, "scd2_cur", [currentPath as string], shape, lineage);
  await duck.run(`CREATE TEMP TABLE scd2_late AS ${inc.lateChanges(shape, "scd2_new0", "scd2_keys")}`);
  if ((await duck.count("SELECT count(*) FROM scd2_late")) > 0) {
    // Only now is the change log needed: to tell re-deliveries from late changes, and to recompute keys.
    const logPaths = await localCopies(ctx.output, prev.events, ctx.stagingDir);
    await alignedView(duck, "scd2_log", logPaths, shape, EVENT_META);
  } else {
    await duck.run("CREATE TEMP VIEW scd2_log AS SELECT * FROM scd2_new0 WHERE false");
  }
  await duck.run(`CREATE TEMP TABLE scd2_dup AS ${inc.redeliveries(shape, "scd2_late", "scd2_log")}`);
  await duck.run(`CREATE TEMP TABLE scd2_new AS ${inc.keptChanges(shape, "scd2_new0", "scd2_dup")}`);
  await duck.run(`CREATE TEMP TABLE scd2_slow AS ${inc.recomputedKeys(shape, "scd2_late", "scd2_dup")}`);
  await duck.run(`CREATE TEMP TABLE scd2_affected AS SELECT DISTINCT ${keyList(shape)} FROM scd2_new`);
  const prior = inc.priorRows(shape, "scd2_keys", "scd2_cur", "scd2_affected", "scd2_slow");
  await duck.run(
    `CREATE TEMP VIEW scd2_input AS ${inc.incrementalInput(shape, { kept: "scd2_new", log: "scd2_log", prior, recomputed: "scd2_slow" })}`,
  );
  return duck.count("SELECT count(*) FROM scd2_slow");
}

/**
 * Closed versions of recomputed keys are replaced: history files holding such keys are rewritten without
 * them (all files, in the new columns, when the schema changed). Other history files stay as they are.
 */
async function rewriteHistory(
  ctx: TableRunContext,
  duck: Duck,
  shape: TableShape,
  prev: TableState,
  schemaChanged: boolean,
  recomputed: number,
  key: string,
): Promise<{ kept: FileEntry[]; written?: FileEntry; superseded: string[] }> {
  if (prev.history.length === 0 || (!schemaChanged && recomputed === 0))
    return { kept: prev.history, superseded: [] };
  const paths = await localCopies(
    ctx.output,
    prev.history.map((f) => f.key),
    ctx.stagingDir,
  );
  let affected = prev.history;
  if (!schemaChanged) {
    const hits = await duck.rows(
      `SELECT DISTINCT filename FROM ${readParquet(paths)} r WHERE EXISTS (SELECT 1 FROM scd2_slow s WHERE ${shape.primaryKey
        .map((k) => `s.${ident(k)} = r.${ident(k)}`)
        .join(" AND ")})`,
    );
    const hitPaths = new Set(hits.map((h) => String(h.filename)));
    affected = prev.history.filter((_, i) => hitPaths.has(paths[i] as string));
  }
  if (affected.length === 0) return { kept: prev.history, superseded: [] };
  const affectedPaths = affected.map((f) => paths[prev.history.indexOf(f)] as string);
  const lineage = outputColumns(shape).slice(shape.columns.length);
  await alignedView(duck, "scd2_hist", affectedPaths, shape, lineage);
  const query = `SELECT ${list(outputColumns(shape))} FROM (${inc.whereKeys(shape, "scd2_hist", "scd2_slow", true)})`;
  const written = { key, ...(await writeParquet(duck, ctx.output, query, key, ctx.scratchDir)) };
  return {
    kept: prev.history.filter((f) => !affected.includes(f)),
    written: written.rows > 0 ? written : undefined,
    superseded: affected.map((f) => f.key).concat(written.rows > 0 ? [] : [key]),
  };
}

export const scratchPath = (workDir: string, runId: string): string => path.join(workDir, `run-${runId}`);
