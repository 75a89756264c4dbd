import type { SourceFile } from "../discovery";
import { checkDiskSpace } from "../disk";
import type { Duck } from "../duck";
import { Scd2Error } from "../errors";
import { ident, readParquet } from "../sql";
import type { FileEntry, TableState } from "../state/manifest";
import { alignedView, localCopies, writeParquet } from "./files";
import type { PendingFile } from "./files";
import * as inc from "./incremental";
import { alignStaged, stage } from "./inputs";
import type { KeyState } from "./key-state";
import { loadKeyState } from "./key-state";
import { inferredEvents } from "./reconcile";
import type { TableShape } from "./shape";
import { INFERRED, keyList, list, outputColumns } from "./shape";
import type { ResolvedTable, TableRunContext } from "./table-run";

/** The columns of the applied-position files this job writes (see appliedView). */
const APPLIED = ["_p", "_r", "__lsn", "__kafka_partition", "__kafka_offset", "__source_ts_ms", "_del"];
const APPLIED_TYPES: Record<string, string> = {
  _p: "BIGINT",
  _r: "UTINYINT",
  __lsn: "BIGINT",
  __kafka_partition: "INTEGER",
  __kafka_offset: "BIGINT",
  __source_ts_ms: "BIGINT",
  _del: "BOOLEAN",
};

/** What an applied-position file keeps of each change (the run's `events`). */
export const appliedColumns = (shape: TableShape): string => `${keyList(shape)}, ${list(APPLIED)}`;

/**
 * A view `name` over the applied-position files, in APPLIED's columns. Files written before snapshot
 * placement lack `_p`, the time and the delete flag: NULL there (reconciliation refuses them).
 */
export async function appliedView(
  duck: Duck,
  shape: TableShape,
  name: string,
  paths: string[],
): Promise<void> {
  const source = readParquet(paths, true);
  const present = new Set(
    (await duck.rows(`DESCRIBE SELECT * FROM ${source}`)).map((r) => String(r.column_name)),
  );
  const columns = APPLIED.map((c) =>
    present.has(c) ? ident(c) : `CAST(NULL AS ${APPLIED_TYPES[c]}) AS ${c}`,
  );
  await duck.run(
    `CREATE TEMP VIEW ${name} AS SELECT ${keyList(shape)}, ${columns.join(", ")} FROM ${source}`,
  );
}

/**
 * Incremental input: loads the stored key state and current versions, drops exact re-deliveries, finds
 * the keys to recompute (replaying their earlier changes from the source files), and creates `scd2_new`,
 * `scd2_affected` and `scd2_input` from `events` (this run's). Returns how many keys are recomputed,
 * whether the stored current file has every output column (else the history is rewritten in them), and
 * the key state (see loadKeyState).
 */
export async function classify(
  ctx: TableRunContext,
  duck: Duck,
  spec: ResolvedTable,
  shape: TableShape,
  prev: TableState,
  files: { all: SourceFile[]; fresh: SourceFile[] },
  events: string,
  loadApplied: () => Promise<string>,
): Promise<{ recomputed: number; layoutComplete: boolean; keyState: KeyState }> {
  const [currentPath, ...keyPaths] = await localCopies(
    ctx.output,
    [prev.current.key, ...prev.keys],
    ctx.stagingDir,
  );
  const keyState = await loadKeyState(duck, shape, prev.keys, keyPaths, events);
  const layoutComplete = await alignedView(
    duck,
    "scd2_cur",
    [currentPath as string],
    shape,
    outputColumns(shape).slice(shape.columns.length),
  );
  await duck.run(`CREATE TEMP TABLE scd2_late AS ${inc.lateChanges(shape, events, keyState.table)}`);
  if ((await duck.count("SELECT count(*) FROM scd2_late")) > 0) {
    // Only now are the applied positions needed: to tell re-deliveries from late changes.
    const applied = await loadApplied();
    await duck.run(`CREATE TEMP TABLE scd2_dup AS ${inc.redeliveries(shape, "scd2_late", applied)}`);
    await duck.run(`CREATE TEMP TABLE scd2_new AS ${inc.keptChanges(shape, events, "scd2_dup")}`);
    await duck.run(`CREATE TEMP TABLE scd2_slow AS ${inc.recomputedKeys(shape, "scd2_late", "scd2_dup")}`);
  } else {
    await duck.run(`CREATE TEMP VIEW scd2_new AS SELECT * FROM ${events}`);
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
      // A delete an earlier reconciliation inferred is in no source file: the applied positions hold it.
      const inferred = `(SELECT ${keyList(shape)}, _p, __source_ts_ms FROM ${await loadApplied()} WHERE _r = ${INFERRED})`;
      replay = `(SELECT * FROM scd2_old UNION ALL BY NAME ${inferredEvents(shape, inferred)})`;
    }
  }
  const prior = inc.priorRows(shape, keyState.table, "scd2_cur", "scd2_affected", "scd2_slow");
  await duck.run(
    `CREATE TEMP TABLE scd2_input AS ${inc.incrementalInput(shape, { kept: "scd2_new", replay, prior, recomputed: "scd2_slow" })}`,
  );
  return { recomputed, layoutComplete, keyState };
}

/**
 * Closed versions of recomputed keys are replaced: history files holding such keys are rewritten without
 * them (all files, in the new columns, when the schema changed). Other history files stay as they are.
 */
export async function rewriteHistory(
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
