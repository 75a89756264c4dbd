import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { discoverSourceFiles, topicOf } from "./discovery";
import type { SourceFile } from "./discovery";
import { checkDiskSpace, diskNeed } from "./disk";
import { Scd2Error, messageOf } from "./errors";
import type { PendingFile } from "./scd2/files";
import type { ResolvedTable } from "./scd2/table-run";
import { runTable, scratchPath } from "./scd2/table-run";
import { DEFAULT_LOCK_STALE_MS, acquireLock } from "./state/lock";
import type { RunLock } from "./state/lock";
import type { Manifest } from "./state/manifest";
import { checkOutput } from "./state/consistency";
import { emptyManifest, readManifest, writeManifest } from "./state/manifest";
import type { Storage } from "./storage/storage";
import type { RunOptions, RunSummary, TableSummary } from "./types";
import { TableUploads } from "./uploads";
import { writeViews } from "./views";
import { makeDirs } from "./mkdirs";
import { removeStaleWorkDirs } from "./workdir";

export { Scd2Error } from "./errors";
export type { ColumnEncoding, ProgressEvent, RunOptions, RunSummary, TableSpec, TableSummary } from "./types";

const TABLE_NAME = /^[A-Za-z_][\w$]*\.[A-Za-z_][\w$]*$/;

/** Checks the table list and fills defaults: primary key `id`, output folder = table name without schema. */
export function resolveTables(
  options: Pick<RunOptions, "tables" | "topicPrefix" | "reconcile">,
): ResolvedTable[] {
  if (options.tables.length === 0) throw new Scd2Error("no tables to build");
  const unknown = options.reconcile?.find((w) => !options.tables.some((t) => t.table === w.table));
  if (unknown)
    throw new Scd2Error(`reconcile window for ${unknown.table}, which is not among the tables to build`);
  const dirs = new Map<string, string>();
  return options.tables.map((spec) => {
    if (!TABLE_NAME.test(spec.table))
      throw new Scd2Error(`table ${JSON.stringify(spec.table)} is not <schema>.<table>`);
    const dir = spec.table.split(".")[1] as string;
    const clash = dirs.get(dir);
    if (clash !== undefined)
      throw new Scd2Error(`tables ${clash} and ${spec.table} would both write ${dir}/`);
    dirs.set(dir, spec.table);
    const primaryKey = spec.primaryKey ?? ["id"];
    if (primaryKey.length === 0) throw new Scd2Error(`${spec.table}: the primary key has no columns`);
    const metadata = primaryKey.find((k) => k.startsWith("__"));
    if (metadata !== undefined)
      throw new Scd2Error(`${spec.table}: key column ${metadata} is a metadata column`);
    return {
      table: spec.table,
      topic: topicOf(options.topicPrefix, spec.table),
      dir,
      primaryKey,
      columnTypes: spec.columnTypes ?? {},
    };
  });
}

/** Sortable and unique: every object a run writes carries it in its name. */
function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:.]/g, "")}-${randomBytes(4).toString("hex")}`;
}

/**
 * Every table's change files. A table whose topic has none is an error when no table has any (a wrong
 * source, topic prefix or table list reads nothing), or with `requireFiles`; otherwise a warning.
 */
async function listSourceFiles(
  options: RunOptions,
  tables: readonly ResolvedTable[],
): Promise<Map<string, SourceFile[]>> {
  const files = new Map<string, SourceFile[]>();
  for (const spec of tables)
    files.set(spec.table, discoverSourceFiles(await options.source.list(`${spec.topic}/`), spec.topic));
  const empty = tables.filter((spec) => files.get(spec.table)?.length === 0);
  if (empty.length > 0 && (empty.length === tables.length || options.requireFiles)) {
    const where = empty.map((spec) => `${options.source.uri}/${spec.topic}/`).join(", ");
    const which = empty.length === tables.length ? "any table" : empty.map((spec) => spec.table).join(", ");
    throw new Scd2Error(
      `no change files for ${which}: nothing under ${where}; check --source, --topic-prefix and --tables (nothing was written)`,
    );
  }
  return files;
}

/**
 * Carries out a committed manifest's publication (moves pending files into place, deletes superseded
 * ones), then commits the manifest without it. Every step is idempotent, so a run that finds a
 * publication left unfinished does it again (roll forward).
 */
async function publish(output: Storage, manifest: Manifest, lock: RunLock): Promise<Manifest> {
  const { publication, ...published } = manifest;
  if (!publication) return manifest;
  for (const move of publication.moves) {
    await lock.confirm();
    await output.move(move.from, move.to);
  }
  if (publication.deletes.length > 0) {
    await lock.confirm();
    await output.delete(publication.deletes);
  }
  await lock.confirm();
  await writeManifest(output, published);
  return published;
}

/**
 * Builds or updates the SCD2 table of every table in `options.tables`: takes the run lock, finishes the
 * publication of an earlier run that stopped after its commit, removes orphans of an earlier killed run,
 * then per table uploads new files (table files to pending keys), commits the manifest with the
 * publication still to do, and publishes: moves the pending files into place and deletes the files it
 * superseded. The lock is refreshed while the run lasts and confirmed before each of those
 * writes: a run that lost it (taken over as stale) stops with an Scd2Error before writing more. Throws `Scd2Error` naming the file or table at fault; whatever was committed
 * before stays intact and readable.
 */
export async function runScd2(options: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const tables = resolveTables(options);
  const buckets = options.keyBuckets;
  if (buckets !== undefined && !(Number.isInteger(buckets) && buckets >= 1))
    throw new Scd2Error(`keyBuckets must be a positive integer, got ${buckets}`);
  const runId = newRunId();
  const logger = options.logger?.child({ runId });
  const scratchDir = scratchPath(options.workDir, runId);
  const stagingDir = path.join(options.workDir, "staging");
  await makeDirs(scratchDir);
  await makeDirs(stagingDir);
  const lock = await acquireLock(options.output, runId, {
    staleMs: options.lockStaleAfterMs ?? DEFAULT_LOCK_STALE_MS,
    heartbeatMs: options.lockHeartbeatMs,
    onStale: (reason) => logger?.warn({ reason }, "taking over a stale run lock"),
    onLost: (error) => logger?.error({ error: error.message }, "lost the run lock"),
    onRefreshError: (error) =>
      logger?.warn({ error: messageOf(error) }, "could not refresh the run lock; retrying"),
  });
  try {
    if (options.staleWorkDirs !== undefined) {
      // Housekeeping: a failure here is reported, it does not stop the run.
      const removed = await removeStaleWorkDirs(options.staleWorkDirs).catch((error: unknown) => {
        logger?.warn({ error: messageOf(error) }, "could not remove work dirs of killed runs");
        return [];
      });
      if (removed.length > 0) logger?.warn({ dirs: removed }, "removed work dirs of killed runs");
    }
    const committed = await readManifest(options.output);
    let manifest = committed ?? emptyManifest();
    if (manifest.publication) {
      logger?.warn(
        { moves: manifest.publication.moves.length },
        "finishing the publication of an earlier run",
      );
      manifest = await publish(options.output, manifest, lock);
    }
    const sourceFiles = await listSourceFiles(options, tables);
    // Before anything is downloaded: a run that cannot fit on local disk stops now, not half-way.
    const need = await diskNeed(
      options.source,
      options.output,
      stagingDir,
      tables.map((spec) => ({
        spec,
        files: sourceFiles.get(spec.table) ?? [],
        previous: manifest.tables[spec.table],
      })),
      options.fullRefresh,
    );
    logger?.info({ ...need }, "local disk needed");
    await checkDiskSpace(need, options.workDir, options.freeBytes);
    const duck = {
      workDir: options.workDir,
      memoryLimit: options.memoryLimit,
      threads: options.threads,
      logger,
    };
    const checked = await checkOutput(
      { ...options, manifest: committed && manifest, duck, stagingDir },
      tables,
    );
    if (checked.interrupted.length > 0) {
      await lock.confirm();
      await options.output.delete(checked.interrupted);
      logger?.warn({ count: checked.interrupted.length }, "removed files of an interrupted run");
    }
    const summaries: TableSummary[] = [];
    for (const spec of tables) {
      const context = {
        source: options.source,
        output: options.output,
        runId,
        fullRefresh: options.fullRefresh,
        duck,
        stagingDir,
        scratchDir,
        onProgress: options.onProgress,
        logger,
        freeBytes: options.freeBytes,
        reconcile: options.reconcile,
        keyBuckets: options.keyBuckets,
      };
      const files = sourceFiles.get(spec.table) ?? [];
      const uploads = new TableUploads(options.output, spec, runId, lock);
      const upload = (written: readonly PendingFile[]) => uploads.add(written);
      const result = await runTable({ ...context, upload }, spec, manifest.tables[spec.table], files).catch(
        async (error: unknown) => {
          // No upload is left running into the lock's release and the scratch dir's removal.
          await uploads.done().catch(() => undefined);
          if (error instanceof Scd2Error) throw error;
          throw new Scd2Error(`${spec.table}: ${messageOf(error)}`, { cause: error });
        },
      );
      const moves = await uploads.done();
      if (result.state !== manifest.tables[spec.table]) {
        const tablesState = { ...manifest.tables };
        if (result.state) tablesState[spec.table] = result.state;
        else delete tablesState[spec.table];
        // A full refresh also replaces the unlisted files checkOutput found it may replace.
        const deletes = [...result.superseded, ...(checked.replaced.get(spec.table) ?? [])];
        manifest = { ...manifest, tables: tablesState, publication: { moves, deletes } };
        await lock.confirm();
        await writeManifest(options.output, manifest);
        manifest = await publish(options.output, manifest, lock);
      }
      summaries.push(result.summary);
      options.onProgress?.({ type: "table-done", summary: result.summary });
      logger?.info({ ...result.summary }, "table done");
    }
    await lock.confirm();
    await writeViews(options.output, Object.keys(manifest.tables));
    return { tables: summaries, durationMs: Date.now() - started };
  } finally {
    // A lock left behind (storage failure) is reported, not thrown over the run's own outcome.
    await lock
      .release()
      .catch((error: unknown) =>
        logger?.error({ error: messageOf(error) }, "could not release the run lock"),
      );
    await fs.rm(scratchDir, { recursive: true, force: true });
  }
}
