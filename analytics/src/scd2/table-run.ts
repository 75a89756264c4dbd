import * as path from "node:path";
import type { Logger } from "pino";
import { ROWS_PER_FILE } from "../decode/stage";
import type { SourceFile } from "../discovery";
import { Duck } from "../duck";
import type { DuckOptions } from "../duck";
import { Scd2Error } from "../errors";
import type { FileEntry, TableState } from "../state/manifest";
import { STATE_DIR, referencedKeys } from "../state/manifest";
import type { Storage } from "../storage/storage";
import type { ColumnEncoding, ProgressEvent, TableSummary } from "../types";
import { appliedColumns, appliedView, classify, rewriteHistory } from "./classify";
import { compactApplied, compactHistory } from "./compact";
import { alignStaged, mergeColumns, stage } from "./inputs";
import { entryOf, localCopies, writeParquet } from "./files";
import type { PendingFile } from "./files";
import * as inc from "./incremental";
import type { KeyState } from "./key-state";
import { fileChunks, JOIN_BYTES_PER_FACT, joinChunks, rowChunks, WHOLE } from "./join-chunks";
import { fastFacts, windowBuckets } from "./fast-pass";
import { writeVersions } from "./join-back";
import type { ReconcileWindow } from "./reconcile";
import { mergeWindows, noEvents, reconcileEvents } from "./reconcile";
import type { TableShape } from "./shape";
import { keyStateColumns } from "./shape";

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
  /** Free bytes of a directory's file system (see RunOptions.freeBytes). */
  freeBytes?: (dir: string) => Promise<number>;
  /** Reconciliation windows to apply this run (RunOptions.reconcile), all tables'. */
  reconcile?: readonly ReconcileWindow[];
  /** Buckets of keys for the window passes (RunOptions.keyBuckets). */
  keyBuckets?: number;
  /**
   * Starts uploading files the run has written, each bound for the key the state refers to it by; the
   * caller waits for them before it commits the state.
   */
  upload: (files: readonly PendingFile[]) => void;
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

function summarize(
  table: string,
  state: TableState | undefined,
  files: number,
  events: number,
  started: number,
): TableSummary {
  const history = state?.history ?? [];
  return {
    table,
    files,
    events,
    versions: history.reduce((n, f) => n + f.rows, 0) + (state?.current.rows ?? 0),
    current: state?.current.rows ?? 0,
    deleted: history.reduce((n, f) => n + f.deleted, 0),
    durationMs: Date.now() - started,
  };
}

/**
 * Builds or updates one table's SCD2 output from its topic's change `files`. Writes only new objects;
 * the caller commits the state. A topic without any change file leaves the table as it is, with a
 * warning: a wrong source, topic prefix or table name must not look like "nothing new", nor make a full
 * refresh drop the table.
 */
export async function runTable(
  ctx: TableRunContext,
  spec: ResolvedTable,
  previous: TableState | undefined,
  files: SourceFile[],
): Promise<TableRunResult> {
  const started = Date.now();
  if (files.length === 0) {
    const warning = `no change files under ${ctx.source.uri}/${spec.topic}/ (check --source, --topic-prefix and --tables)`;
    ctx.logger?.warn({ table: spec.table, topic: spec.topic }, `${spec.table}: ${warning}`);
    const summary = { ...summarize(spec.table, previous, 0, 0, started), warning };
    return { state: previous, superseded: [], summary };
  }
  const prev = ctx.fullRefresh ? undefined : previous;
  if (prev && prev.primaryKey.join(",") !== spec.primaryKey.join(",")) {
    throw new Scd2Error(
      `${spec.table}: primary key changed from (${prev.primaryKey.join(", ")}) to (${spec.primaryKey.join(", ")}); run a full refresh`,
    );
  }
  const fresh = prev ? files.filter((f) => prev.processed[f.key] !== f.etag) : files;
  ctx.onProgress?.({ type: "table-started", table: spec.table, files: fresh.length });
  ctx.logger?.info({ table: spec.table, files: fresh.length, fullRefresh: ctx.fullRefresh }, "table started");
  // Windows already applied are kept in the state: a full refresh applies them again.
  const stored = (ctx.fullRefresh ? previous?.reconciled : undefined) ?? [];
  const given = (ctx.reconcile ?? []).filter((w) => w.table === spec.table);
  const windows = [
    ...stored.map((w) => ({ table: spec.table, from: BigInt(w.from), to: BigInt(w.to) })),
    ...given,
  ];
  if (fresh.length === 0 && given.length === 0) {
    // Only an incremental run gets here (a full refresh takes every file): nothing to do.
    return { state: prev, superseded: [], summary: summarize(spec.table, prev, 0, 0, started) };
  }
  const duck = await Duck.open(ctx.duck);
  try {
    const built = await build(ctx, duck, spec, prev, { all: files, fresh }, windows);
    const superseded = prev ? built.superseded : previous ? referencedKeys(previous) : [];
    const summary = summarize(spec.table, built.state, fresh.length, built.events, started);
    return {
      state: withWindows(built.state, mergeWindows(previous?.reconciled, given)),
      superseded,
      summary: windows.length > 0 ? { ...summary, inferredDeletes: built.inferred } : summary,
    };
  } finally {
    duck.close();
  }
}

async function build(
  ctx: TableRunContext,
  duck: Duck,
  spec: ResolvedTable,
  prev: TableState | undefined,
  files: { all: SourceFile[]; fresh: SourceFile[] },
  windows: readonly ReconcileWindow[],
): Promise<{
  state: TableState;
  superseded: string[];
  events: number;
  inferred: number;
}> {
  const staged =
    files.fresh.length > 0
      ? await stage(ctx, duck, spec, files.fresh, "scd2_new0", {
          progress: true,
          inPlace: !prev,
          tableColumns: prev?.columns ?? [],
        })
      : [];
  const merged = await mergeColumns(duck, spec.table, prev?.columns ?? [], staged);
  const shape: TableShape = { primaryKey: spec.primaryKey, columns: merged.columns };
  if (files.fresh.length > 0) await alignStaged(duck, shape, staged, "scd2_new0");
  else await duck.run(`CREATE TEMP VIEW scd2_new0 AS ${noEvents(shape)}`);
  const eventCount = await duck.count("SELECT count(*) FROM scd2_new0");
  const step = (name: string) => ctx.onProgress?.({ type: "step", table: spec.table, step: name });
  let appliedPositions: Promise<string> | undefined;
  const loadApplied = () =>
    (appliedPositions ??= localCopies(ctx.output, prev!.applied, ctx.stagingDir)
      .then((paths) => appliedView(duck, shape, "scd2_applied", paths))
      .then(() => "scd2_applied"));

  let events = "scd2_new0";
  let inferred = 0;
  if (windows.length > 0) {
    step("reconciling");
    inferred = await reconcileEvents(
      duck,
      shape,
      windows,
      prev ? await loadApplied() : undefined,
      events,
      "scd2_events",
    );
    events = "scd2_events";
  }
  let recomputed = 0;
  let layoutComplete = true;
  let keyState: KeyState | undefined;
  if (prev) {
    step("comparing with the stored state");
    ({ recomputed, layoutComplete, keyState } = await classify(
      ctx,
      duck,
      spec,
      shape,
      prev,
      files,
      events,
      loadApplied,
    ));
  }
  // The pipeline's input has a unique `_row`: the staged row id, or the rowid of the incremental input.
  const input = prev ? "(SELECT rowid AS _row, * FROM scd2_input)" : events;
  const inputRows = prev ? await duck.count("SELECT count(*) FROM scd2_input") : eventCount;
  const buckets = {
    count: ctx.keyBuckets ?? windowBuckets(inputRows, await duck.memoryLimitBytes()),
    // In the run's scratch dir, removed with it.
    dir: path.join(ctx.scratchDir, `facts-${spec.dir}`),
  };
  const fast = await fastFacts(duck, shape, input, buckets, step);
  const stateKey = (kind: string) => `${STATE_DIR}/${spec.table}/${kind}/${ctx.runId}.parquet`;
  const outKey = (kind: string, suffix = "") => `${spec.dir}/${kind}/${ctx.runId}${suffix}.parquet`;
  const write = async (query: string, key: string) => {
    ctx.upload([await writeParquet(duck, query, key, ctx.scratchDir)]);
  };

  const history: FileEntry[] = [];
  const superseded: string[] = [];
  const compactContext = { duck, output: ctx.output, stagingDir: ctx.stagingDir, scratchDir: ctx.scratchDir };
  if (prev) {
    const rewrite = await rewriteHistory(
      ctx,
      duck,
      shape,
      prev,
      // Files of an earlier job version lack an output column: all are rewritten with it.
      merged.changed || !layoutComplete,
      recomputed,
      outKey("history", "-rewrite"),
    );
    const compacted = await compactHistory(compactContext, rewrite.kept, outKey("history", "-compact"));
    history.push(...compacted.files, ...rewrite.written.map(entryOf));
    ctx.upload([...rewrite.written, ...compacted.written]);
    superseded.push(...rewrite.superseded, ...compacted.superseded, prev.current.key);
  }
  const applied = await compactApplied(compactContext, prev?.applied ?? [], stateKey("applied-compact"));
  ctx.upload(applied.written);
  superseded.push(...applied.superseded);
  // The join back to the values holds the facts (and placeholder values) in hash tables: more than fit
  // the memory limit are joined, and written, in pieces, each piece its own history file.
  const closedFacts = await duck.count(
    "SELECT count(*) FROM scd2_vfacts WHERE NOT _del AND n_ts IS NOT NULL",
  );
  const chunks = joinChunks(
    closedFacts * JOIN_BYTES_PER_FACT + fast.pointedBytes,
    await duck.memoryLimitBytes(),
    fast.rowOrdered,
  );
  // In pieces of the input rows: a full build's pieces are runs of change files, each scanned once.
  const sourceFiles = prev ? undefined : { keys: files.fresh.map((f) => f.key), rowsPerFile: ROWS_PER_FILE };
  const pieces =
    chunks === 1
      ? [WHOLE]
      : sourceFiles
        ? fileChunks(sourceFiles.keys, chunks, sourceFiles.rowsPerFile)
        : rowChunks(inputRows, chunks);
  const written = await writeVersions({
    duck,
    shape,
    fast,
    pieces,
    scratchDir: ctx.scratchDir,
    outKey,
    // The current versions of keys this run does not touch stay current.
    untouched: prev ? inc.whereKeys(shape, "scd2_cur", "scd2_affected", true) : undefined,
    sourceFiles,
    step,
  });
  history.push(...written.closed.map(entryOf));
  ctx.upload([...written.closed, written.current]);
  const currentFile = entryOf(written.current);
  step("writing state");
  // The state of every key this run changed: the key state of a full build, an update of an earlier one.
  const changedKeys = `(SELECT ${keyStateColumns(shape)} FROM scd2_vfacts WHERE _last)`;
  const keys = keyState
    ? // Those keys are the ones the run has changes for (every one has a last fact).
      await keyState.next({ rows: changedKeys, keys: "scd2_affected" }, stateKey("keys"))
    : { query: changedKeys, files: [stateKey("keys")], superseded: [] };
  await write(keys.query, stateKey("keys"));
  superseded.push(...keys.superseded);
  await write(`SELECT ${appliedColumns(shape)} FROM ${prev ? "scd2_new" : events}`, stateKey("applied"));

  ctx.logger?.info(
    {
      table: spec.table,
      events: eventCount,
      complexKeys: written.complexKeys,
      recomputedKeys: recomputed,
      inferredDeletes: inferred,
      schemaChanged: merged.changed && !!prev,
    },
    "table built",
  );
  const state: TableState = {
    topic: spec.topic,
    primaryKey: spec.primaryKey,
    columns: shape.columns.map((c) => ({ ...c })),
    processed: { ...(prev?.processed ?? {}), ...Object.fromEntries(files.fresh.map((f) => [f.key, f.etag])) },
    history,
    current: currentFile,
    keys: keys.files,
    applied: [...applied.files, stateKey("applied")],
  };
  return { state, superseded, events: eventCount, inferred };
}

const withWindows = (state: TableState, reconciled: TableState["reconciled"] & object): TableState =>
  reconciled.length > 0 ? { ...state, reconciled } : state;

export const scratchPath = (workDir: string, runId: string): string => path.join(workDir, `run-${runId}`);
