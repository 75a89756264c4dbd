import * as path from "node:path";
import type { Logger } from "pino";
import type { SourceFile } from "../discovery";
import { checkDiskSpace } from "../disk";
import { Duck } from "../duck";
import type { DuckOptions } from "../duck";
import { Scd2Error } from "../errors";
import { ident, readParquet } from "../sql";
import type { FileEntry, TableState } from "../state/manifest";
import { STATE_DIR, referencedKeys } from "../state/manifest";
import type { Storage } from "../storage/storage";
import type { ColumnEncoding, ProgressEvent, TableSummary } from "../types";
import { compactApplied, compactHistory } from "./compact";
import { alignStaged, mergeColumns, stage } from "./inputs";
import { alignedView, entryOf, localCopies, writeParquet } from "./files";
import type { PendingFile } from "./files";
import * as inc from "./incremental";
import { JOIN_BYTES_PER_FACT, joinChunks } from "./join-chunks";
import {
  carriedColumns,
  collapseFacts,
  collapsibleGroups,
  eventFacts,
  placeholderColumns,
  pointedValues,
  versionFacts,
  widenFacts,
} from "./facts";
import { buildVersions, dropUnchanged, simpleVersions } from "./pipeline";
import type { TableShape } from "./shape";
import { KEY_STATE, keyList, list, outputColumns } from "./shape";

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
  /** Files to upload before the state is committed. */
  uploads: PendingFile[];
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
    return { state: previous, uploads: [], superseded: [], summary };
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
  if (fresh.length === 0) {
    // Only an incremental run gets here (a full refresh takes every file): nothing to do.
    return { state: prev, uploads: [], superseded: [], summary: summarize(spec.table, prev, 0, 0, started) };
  }
  const duck = await Duck.open(ctx.duck);
  try {
    const built = await build(ctx, duck, spec, prev, { all: files, fresh });
    const superseded = prev ? built.superseded : previous ? referencedKeys(previous) : [];
    return {
      state: built.state,
      uploads: built.uploads,
      superseded,
      summary: summarize(spec.table, built.state, fresh.length, built.events, started),
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
): Promise<{ state: TableState; uploads: PendingFile[]; superseded: string[]; events: number }> {
  const staged = await stage(ctx, duck, spec, files.fresh, "scd2_new0", {
    progress: true,
    inPlace: !prev,
    tableColumns: prev?.columns ?? [],
  });
  const merged = await mergeColumns(duck, spec.table, prev?.columns ?? [], staged);
  const shape: TableShape = { primaryKey: spec.primaryKey, columns: merged.columns };
  await alignStaged(duck, shape, staged, "scd2_new0");
  const eventCount = await duck.count("SELECT count(*) FROM scd2_new0");
  const step = (name: string) => ctx.onProgress?.({ type: "step", table: spec.table, step: name });

  let recomputed = 0;
  if (prev) {
    step("comparing with the stored state");
    recomputed = await classify(ctx, duck, spec, shape, prev, files);
  }
  step("ordering changes");
  // The pipeline's input has a unique `_row`: the staged row id, or the rowid of the incremental input.
  const input = prev ? "(SELECT rowid AS _row, * FROM scd2_input)" : "scd2_new0";
  const fast = await fastFacts(duck, shape, input);
  await duck.run(
    `CREATE TEMP TABLE scd2_complex AS SELECT DISTINCT ${keyList(shape)} FROM scd2_vfacts WHERE _complex`,
  );
  const complex = await duck.count("SELECT count(*) FROM scd2_complex");
  if (complex > 0) {
    const rows = `(${fast.widen(`(${inc.whereKeys(shape, "scd2_vfacts", "scd2_complex")})`, "true")})`;
    await duck.run(`CREATE TEMP TABLE scd2_cv AS ${buildVersions(shape, `(${dropUnchanged(shape, rows)})`)}`);
  }
  // Only the versions' values are joined back: deletes and complex keys are left out of the join.
  const notComplex = complex > 0 ? ` AND ${inc.keyIn(shape, "f", "scd2_complex", true)}` : "";
  const versions = (current: boolean, inChunk = "true") => {
    const facts = `(SELECT * FROM scd2_vfacts f WHERE NOT _del AND n_ts IS ${current ? "" : "NOT "}NULL AND ${inChunk}${notComplex})`;
    const complexPart =
      complex > 0 ? ` UNION ALL SELECT * FROM scd2_cv WHERE is_current = ${current} AND ${inChunk}` : "";
    return `(${simpleVersions(shape, `(${fast.widen(facts, inChunk)})`)}${complexPart})`;
  };

  const stateKey = (kind: string) => `${STATE_DIR}/${spec.table}/${kind}/${ctx.runId}.parquet`;
  const outKey = (kind: string, suffix = "") => `${spec.dir}/${kind}/${ctx.runId}${suffix}.parquet`;
  const uploads: PendingFile[] = [];
  const write = async (query: string, key: string) => {
    uploads.push(await writeParquet(duck, query, key, ctx.scratchDir));
  };
  const output = list(outputColumns(shape));

  const history: FileEntry[] = [];
  const superseded: string[] = [];
  const compactContext = { duck, output: ctx.output, stagingDir: ctx.stagingDir, scratchDir: ctx.scratchDir };
  if (prev) {
    const rewrite = await rewriteHistory(
      ctx,
      duck,
      shape,
      prev,
      merged.changed,
      recomputed,
      outKey("history", "-rewrite"),
    );
    const compacted = await compactHistory(compactContext, rewrite.kept, outKey("history", "-compact"));
    history.push(...compacted.files, ...rewrite.written.map(entryOf));
    uploads.push(...rewrite.written, ...compacted.written);
    superseded.push(...rewrite.superseded, ...compacted.superseded, prev.current.key, prev.keys);
  }
  const applied = await compactApplied(compactContext, prev?.applied ?? [], stateKey("applied-compact"));
  uploads.push(...applied.written);
  superseded.push(...applied.superseded);
  // The join back to the values holds the facts (and placeholder values) in hash tables: more than fit
  // the memory limit are joined, and written, in chunks of keys, each chunk its own history file.
  const closedFacts = await duck.count(
    "SELECT count(*) FROM scd2_vfacts WHERE NOT _del AND n_ts IS NOT NULL",
  );
  const chunks = joinChunks(
    closedFacts * JOIN_BYTES_PER_FACT + fast.pointedBytes,
    await duck.memoryLimitBytes(),
  );
  const inChunk = (chunk: number) => (chunks > 1 ? `hash(${keyList(shape)}) % ${chunks} = ${chunk}` : "true");
  for (let chunk = 0; chunk < chunks; chunk += 1) {
    step(chunks > 1 ? `writing closed versions (${chunk + 1}/${chunks})` : "writing closed versions");
    const closed = await writeParquet(
      duck,
      `SELECT ${output} FROM ${versions(false, inChunk(chunk))}`,
      outKey("history", chunks > 1 ? `-${chunk}` : ""),
      ctx.scratchDir,
    );
    if (closed.rows > 0) {
      history.push(entryOf(closed));
      uploads.push(closed);
    }
  }
  step("writing current versions");
  // The current versions are one file: in chunks, they are gathered in a table first.
  let currentVersions = versions(true);
  if (chunks > 1) {
    await duck.run(`CREATE TEMP TABLE scd2_current AS SELECT ${output} FROM ${versions(true, inChunk(0))}`);
    for (let chunk = 1; chunk < chunks; chunk += 1)
      await duck.run(`INSERT INTO scd2_current SELECT ${output} FROM ${versions(true, inChunk(chunk))}`);
    currentVersions = "scd2_current";
  }
  // The current versions of keys this run does not touch stay current.
  const untouched = prev
    ? ` UNION ALL SELECT ${output} FROM (${inc.whereKeys(shape, "scd2_cur", "scd2_affected", true)})`
    : "";
  const current = await writeParquet(
    duck,
    `SELECT ${output} FROM ${currentVersions}${untouched}`,
    outKey("current"),
    ctx.scratchDir,
  );
  uploads.push(current);
  const currentFile = entryOf(current);
  step("writing state");
  const keys = prev
    ? inc.nextKeyState(shape, "scd2_keys", "scd2_affected", "scd2_vfacts")
    : `SELECT ${keyList(shape)}, ${list(KEY_STATE)} FROM scd2_vfacts WHERE _last`;
  await write(keys, stateKey("keys"));
  await write(
    `SELECT ${keyList(shape)}, _r, __lsn, __kafka_partition, __kafka_offset FROM ${prev ? "scd2_new" : "scd2_new0"}`,
    stateKey("applied"),
  );

  ctx.logger?.info(
    {
      table: spec.table,
      events: eventCount,
      complexKeys: complex,
      recomputedKeys: recomputed,
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
    keys: stateKey("keys"),
    applied: [...applied.files, stateKey("applied")],
  };
  return { state, uploads, superseded, events: eventCount };
}

interface FastPass {
  /** The join of `facts` back to the changes' values, for the keys `inChunk` (a predicate on the key) holds. */
  widen(facts: string, inChunk: string): string;
  /** Memory the placeholder values take in that join. */
  pointedBytes: number;
}

/**
 * The fast pass over `input`: creates `scd2_vfacts`, one row of facts per change that survives the
 * collapse (re-deliveries and all but the last change of each transaction removed, placeholders resolved),
 * with its next change. Returns how to join a relation of such facts back to the changes' values. The
 * collapse pass is skipped when there is nothing to collapse.
 */
async function fastFacts(duck: Duck, shape: TableShape, input: string): Promise<FastPass> {
  const query = placeholderColumns(shape, input);
  const [found] = query ? await duck.rows(query) : [];
  const names = new Set(Object.entries(found ?? {}).flatMap(([name, any]) => (any === true ? [name] : [])));
  const carried = carriedColumns(shape, names);
  const collapse = carried.length > 0 || (await duck.count(collapsibleGroups(shape, input))) > 0;
  const facts = `(${eventFacts(shape, input, carried)})`;
  const collapsed = collapse ? `(${collapseFacts(shape, facts, carried)})` : facts;
  await duck.run(`CREATE TEMP TABLE scd2_vfacts AS ${versionFacts(shape, collapsed, carried)}`);
  const pointed = carried.map((_, i) => `scd2_pointed${i}`);
  let pointedBytes = 0;
  for (const [i, table] of pointed.entries()) {
    await duck.run(`CREATE TEMP TABLE ${table} AS ${pointedValues(shape, "scd2_vfacts", input, carried, i)}`);
    const value = ident(carried[i]!.name);
    pointedBytes += await duck.count(
      `SELECT count(*) * ${JOIN_BYTES_PER_FACT} + coalesce(sum(strlen(CAST(${value} AS VARCHAR))), 0) FROM ${table}`,
    );
  }
  return {
    widen: (facts, inChunk) =>
      widenFacts(
        shape,
        facts,
        input,
        carried,
        pointed.map((table) => `(SELECT * FROM ${table} WHERE ${inChunk})`),
      ),
    pointedBytes,
  };
}

/**
 * Incremental input: loads the stored key state and current versions, drops exact re-deliveries, finds
 * the keys to recompute (replaying their earlier changes from the source files), and creates `scd2_new`,
 * `scd2_affected` and `scd2_input`. Returns how many keys are recomputed.
 */
async function classify(
  ctx: TableRunContext,
  duck: Duck,
  spec: ResolvedTable,
  shape: TableShape,
  prev: TableState,
  files: { all: SourceFile[]; fresh: SourceFile[] },
): Promise<number> {
  const [keysPath, currentPath] = await localCopies(
    ctx.output,
    [prev.keys, prev.current.key],
    ctx.stagingDir,
  );
  await duck.run(`CREATE TEMP VIEW scd2_keys AS SELECT * FROM ${readParquet([keysPath as string])}`);
  await alignedView(
    duck,
    "scd2_cur",
    [currentPath as string],
    shape,
    outputColumns(shape).slice(shape.columns.length),
  );
  await duck.run(`CREATE TEMP TABLE scd2_late AS ${inc.lateChanges(shape, "scd2_new0", "scd2_keys")}`);
  if ((await duck.count("SELECT count(*) FROM scd2_late")) > 0) {
    // Only now are the applied positions needed: to tell re-deliveries from late changes.
    const applied = readParquet(await localCopies(ctx.output, prev.applied, ctx.stagingDir), true);
    await duck.run(`CREATE TEMP TABLE scd2_dup AS ${inc.redeliveries(shape, "scd2_late", applied)}`);
    await duck.run(`CREATE TEMP TABLE scd2_new AS ${inc.keptChanges(shape, "scd2_new0", "scd2_dup")}`);
    await duck.run(`CREATE TEMP TABLE scd2_slow AS ${inc.recomputedKeys(shape, "scd2_late", "scd2_dup")}`);
  } else {
    await duck.run("CREATE TEMP VIEW scd2_new AS SELECT * FROM scd2_new0");
    await duck.run(`CREATE TEMP TABLE scd2_slow AS SELECT DISTINCT ${keyList(shape)} FROM scd2_late`);
  }
  await duck.run(`CREATE TEMP TABLE scd2_affected AS SELECT DISTINCT ${keyList(shape)} FROM scd2_new`);
  const recomputed = await duck.count("SELECT count(*) FROM scd2_slow");
  let replay = "(SELECT * FROM scd2_new WHERE false)";
  if (recomputed > 0) {
    // A late change reorders a key's history: replay every earlier change of the key from the source files.
    // Every file applied before, even one written again since (it is also new: its copies of applied
    // changes were just dropped as re-deliveries, so only the replay still holds them).
    const earlier = files.all.filter((f) => prev.processed[f.key] !== undefined);
    const listed = new Set(files.all.map((f) => f.key));
    const gone = Object.keys(prev.processed).filter((key) => !listed.has(key));
    if (gone.length > 0) {
      throw new Scd2Error(
        `${spec.table}: a late change needs the key's earlier changes, but source file ${gone[0]} (and ${gone.length - 1} more) is gone`,
      );
    }
    if (earlier.length > 0) {
      // Not known before the run: it downloads earlier change files again (S3).
      const downloads = await ctx.source.stagedBytes(earlier, ctx.stagingDir);
      await checkDiskSpace({ downloads, written: 0 }, ctx.stagingDir, ctx.freeBytes);
      await alignStaged(
        duck,
        shape,
        await stage(ctx, duck, spec, earlier, "scd2_old", {
          progress: false,
          inPlace: false,
          tableColumns: shape.columns,
        }),
        "scd2_old",
      );
      replay = "scd2_old";
    }
  }
  const prior = inc.priorRows(shape, "scd2_keys", "scd2_cur", "scd2_affected", "scd2_slow");
  await duck.run(
    `CREATE TEMP TABLE scd2_input AS ${inc.incrementalInput(shape, { kept: "scd2_new", replay, prior, recomputed: "scd2_slow" })}`,
  );
  return recomputed;
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
): Promise<{ kept: FileEntry[]; written: PendingFile[]; superseded: string[] }> {
  if (prev.history.length === 0 || (!schemaChanged && recomputed === 0)) {
    return { kept: prev.history, written: [], superseded: [] };
  }
  const paths = await localCopies(
    ctx.output,
    prev.history.map((f) => f.key),
    ctx.stagingDir,
  );
  const hit = new Set<string>(paths);
  if (!schemaChanged) {
    hit.clear();
    const rows = await duck.rows(
      `SELECT DISTINCT r.filename FROM ${readParquet(paths)} r WHERE ${inc.keyIn(shape, "r", "scd2_slow")}`,
    );
    for (const row of rows) hit.add(String(row.filename));
  }
  const affected = prev.history.filter((_, i) => hit.has(paths[i] as string));
  if (affected.length === 0) return { kept: prev.history, written: [], superseded: [] };
  await alignedView(duck, "scd2_hist", [...hit], shape, outputColumns(shape).slice(shape.columns.length));
  const query = `SELECT ${list(outputColumns(shape))} FROM (${inc.whereKeys(shape, "scd2_hist", "scd2_slow", true)})`;
  const written = await writeParquet(duck, query, key, ctx.scratchDir);
  return {
    kept: prev.history.filter((f) => !affected.includes(f)),
    written: written.rows > 0 ? [written] : [],
    superseded: affected.map((f) => f.key),
  };
}

export const scratchPath = (workDir: string, runId: string): string => path.join(workDir, `run-${runId}`);
