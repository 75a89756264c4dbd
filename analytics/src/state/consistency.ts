import { discoverSourceFiles } from "../discovery";
import { Duck } from "../duck";
import type { DuckOptions } from "../duck";
import { Scd2Error, messageOf } from "../errors";
import { readParquet } from "../sql";
import type { Storage } from "../storage/storage";
import { MANIFEST_KEY, STATE_DIR, referencedKeys } from "./manifest";
import type { Manifest } from "./manifest";

/** A run id as it appears in every object a run writes (see newRunId in job.ts). */
const RUN_ID = String.raw`\d{8}T\d{9}Z-[0-9a-f]{8}`;
const RUN_ID_IN_KEY = new RegExp(RUN_ID, "g");

/** The tables a run builds: their name, output folder and topic. */
export interface CheckedTable {
  table: string;
  dir: string;
  topic: string;
}

export interface OutputCheckContext {
  source: Storage;
  output: Storage;
  /** The committed manifest, undefined when there is none. */
  manifest: Manifest | undefined;
  fullRefresh: boolean;
  duck: DuckOptions;
  stagingDir: string;
}

export interface OutputCheck {
  /** Files an interrupted run wrote before its commit: safe to delete. */
  interrupted: string[];
  /** Per table, files the manifest does not list that a full refresh may delete (checked against the source). */
  replaced: Map<string, string[]>;
}

/**
 * The name of a file a run writes to its table's state before the commit (its pending table files, its
 * key state and applied positions), with the run id it carries.
 */
function stateFileRunId(table: string, key: string): string | undefined {
  const prefix = `${STATE_DIR}/${table}/`;
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  const match =
    new RegExp(`^pending/(${RUN_ID})/.+\\.parquet$`).exec(rest) ??
    new RegExp(`^(?:keys|applied|applied-compact)/(${RUN_ID})\\.parquet$`).exec(rest);
  return match?.[1];
}

/** The newest run id any committed file carries: a run that did not commit started after it. */
function newestCommittedRun(manifest: Manifest | undefined): string {
  const keys = Object.values(manifest?.tables ?? {}).flatMap(referencedKeys);
  return keys.flatMap((key) => key.match(RUN_ID_IN_KEY) ?? []).reduce((a, b) => (b > a ? b : a), "");
}

const WAY_OUT =
  "restore the manifest (e.g. an earlier version of the object), or rebuild the table with --full-refresh, " +
  "which first checks that the source still holds every change file those table files came from";

function firstOf(keys: readonly string[]): string {
  return keys.length > 1 ? `${keys[0]} (and ${keys.length - 1} more)` : (keys[0] ?? "");
}

/**
 * Compares the output with the committed manifest before a run writes anything. The job deletes only
 * files it can prove an interrupted run wrote: state files (never table files: those wait under
 * `pending/` until the commit) named after a run newer than every committed one. Anything else the
 * manifest does not list, and any file it lists that is missing, stops the run with an Scd2Error naming
 * the manifest, the file and the way out. Under `fullRefresh` the unlisted files are replaced instead,
 * once the source is shown to still hold every change file their versions came from.
 */
export async function checkOutput(
  ctx: OutputCheckContext,
  tables: readonly CheckedTable[],
): Promise<OutputCheck> {
  const manifestUri = `${ctx.output.uri}/${MANIFEST_KEY}`;
  const newest = newestCommittedRun(ctx.manifest);
  const interrupted: string[] = [];
  const replaced = new Map<string, string[]>();
  for (const table of tables) {
    const state = ctx.manifest?.tables[table.table];
    const referenced = new Set(state ? referencedKeys(state) : []);
    const present = new Set<string>();
    for (const prefix of [`${table.dir}/`, `${STATE_DIR}/${table.table}/`])
      for (const object of await ctx.output.list(prefix)) present.add(object.key);
    const missing = [...referenced].filter((key) => !present.has(key));
    if (missing.length > 0 && !ctx.fullRefresh) {
      throw new Scd2Error(
        `${manifestUri} lists ${firstOf(missing)} of ${table.table}, which is missing; ${WAY_OUT}`,
      );
    }
    const unlisted = [...present].filter((key) => !referenced.has(key));
    const unproven: string[] = [];
    for (const key of unlisted) {
      const runId = stateFileRunId(table.table, key);
      if (runId !== undefined && runId >= newest) interrupted.push(key);
      else unproven.push(key);
    }
    if (unproven.length === 0) continue;
    const what = ctx.manifest
      ? `${manifestUri} does not list ${firstOf(unproven)}`
      : `${manifestUri} is missing, but the output holds ${firstOf(unproven)}`;
    if (!ctx.fullRefresh) {
      throw new Scd2Error(
        `${what}, and no interrupted run can have written it: the job deletes no file it cannot prove it wrote; ${WAY_OUT}`,
      );
    }
    await checkReplaceable(ctx, table, unproven, what);
    replaced.set(table.table, unproven);
  }
  return { interrupted, replaced };
}

/**
 * A full refresh may delete unlisted files only when it rebuilds what they hold: state files of the
 * job's own naming (derived data), and table files whose every version came from a change file the
 * source still has.
 */
async function checkReplaceable(
  ctx: OutputCheckContext,
  table: CheckedTable,
  keys: readonly string[],
  what: string,
): Promise<void> {
  const foreign = keys.filter(
    (key) =>
      !(key.startsWith(`${table.dir}/`) && key.endsWith(".parquet")) &&
      stateFileRunId(table.table, key) === undefined,
  );
  if (foreign.length > 0)
    throw new Scd2Error(
      `${what}: ${firstOf(foreign)} is not a file the job writes; move it away and run again`,
    );
  const tableFiles = keys.filter((key) => key.startsWith(`${table.dir}/`));
  if (tableFiles.length === 0) return;
  const listed = new Set(
    discoverSourceFiles(await ctx.source.list(`${table.topic}/`), table.topic).map((f) => f.key),
  );
  const paths: string[] = [];
  for (const key of tableFiles) paths.push(await ctx.output.localCopy(key, ctx.stagingDir));
  const duck = await Duck.open(ctx.duck);
  try {
    const rows = await duck
      .rows(`SELECT DISTINCT __source_file FROM ${readParquet(paths, true)} ORDER BY 1`)
      .catch((error: unknown) => {
        throw new Scd2Error(
          `${what}: cannot read the change files its versions came from: ${messageOf(error)}`,
        );
      });
    const gone = rows.map((r) => String(r.__source_file)).filter((key) => !listed.has(key));
    if (gone.length > 0) {
      throw new Scd2Error(
        `${what}, and --full-refresh would lose history: versions in it came from ${firstOf(gone)}, which is no longer in ${ctx.source.uri}; restore the manifest (e.g. an earlier version of the object)`,
      );
    }
  } finally {
    duck.close();
  }
}
