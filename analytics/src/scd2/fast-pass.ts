import { readdir, rm } from "node:fs/promises";
import * as path from "node:path";
import type { Duck } from "../duck";
import { ident, literal, readParquet } from "../sql";
import {
  carriedColumns,
  collapseFacts,
  collapsibleGroups,
  eventFacts,
  placeholderColumns,
  placeholderNames,
  pointedValues,
  rowBytes,
  variableBytes,
  versionFacts,
  widenFacts,
} from "./facts";
import { INTERNAL_ENCODING } from "./files";
import type { JoinChunk } from "./join-chunks";
import { JOIN_BYTES_PER_FACT, WHOLE } from "./join-chunks";
import type { TableShape } from "./shape";
import { keyBucket } from "./shape";

export interface FastPass {
  /** The join of `facts` (those of `chunk`) back to the changes' values. */
  widen(facts: string, chunk: JoinChunk): string;
  /** Memory the placeholder values take in that join. */
  pointedBytes: number;
  /**
   * Average bytes of a change's values in the input: a scan of its variable-size values, run only when
   * asked (by the exact path, which most runs do not take).
   */
  rowBytes(): Promise<number>;
  /** `scd2_vfacts` is in row order within each bucket of keys: a piece of the join reads only its rows. */
  rowOrdered: boolean;
}

/** Where the window passes write their buckets of keys, and how many (see windowBuckets). */
export interface KeyBuckets {
  count: number;
  /** A folder of the run's scratch dir, made by the partitioned write. */
  dir: string;
}

/**
 * The fast pass over `input`: creates `scd2_vfacts`, one row of facts per change that survives the
 * collapse (re-deliveries and all but the last change of each transaction removed, placeholders resolved),
 * with its next change. Returns how to join a relation of such facts back to the changes' values. The
 * collapse pass is skipped when there is nothing to collapse.
 *
 * The two window passes sort every fact by key. When the facts are more than the memory limit holds,
 * they are first written out in buckets of keys and each bucket is sorted alone: one window over all
 * of them spills its sort, and that grows faster than the history (at 100M changes under 1GB it spilled
 * 12 GiB and took 186 s on a quiet machine; in ten buckets, 136 s).
 */
export async function fastFacts(
  duck: Duck,
  shape: TableShape,
  input: string,
  buckets: KeyBuckets,
  step: (name: string) => void,
): Promise<FastPass> {
  const query = placeholderColumns(shape, input);
  const [found = {}] = query ? await duck.rows(query) : [];
  const names = placeholderNames(shape, found);
  const carried = carriedColumns(shape, names);
  const collapse = carried.length > 0 || (await duck.count(collapsibleGroups(shape, input))) > 0;
  const facts = `(${eventFacts(shape, input, carried)})`;
  const sources =
    buckets.count === 1
      ? [{ query: facts, folder: undefined }]
      : await bucketFacts(duck, shape, facts, buckets);
  const inBuckets = sources.length > 1;
  for (const [i, { query, folder }] of sources.entries()) {
    step(inBuckets ? `ordering changes (${i + 1}/${sources.length})` : "ordering changes");
    const collapsed = collapse ? `(${collapseFacts(shape, query, carried)})` : query;
    const versions = versionFacts(shape, collapsed, carried);
    // In buckets, each bucket's facts go in sorted by row: a piece of the join back (a run of rows) then
    // reads only its part of each bucket, through the table's zone maps, instead of all the facts twice
    // (at 100M changes, 18 scans of a table ten times the memory limit: 14-22 s a piece).
    const ordered = inBuckets ? `${versions} ORDER BY _row` : versions;
    await duck.run(
      i === 0 ? `CREATE TEMP TABLE scd2_vfacts AS ${ordered}` : `INSERT INTO scd2_vfacts ${ordered}`,
    );
    // A sorted bucket's files go at once: the table they became grows while they shrink, so the local
    // disk peaks at about one copy of the facts, not two (the run's pre-run disk check counts on it).
    if (folder !== undefined) await rm(folder, { recursive: true });
  }
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
    widen: (facts, chunk) =>
      chunk === WHOLE
        ? widenFacts(shape, facts, input, carried, pointed)
        : widenFacts(
            shape,
            facts,
            `(SELECT * FROM ${input} WHERE ${chunk.input})`,
            carried,
            // Only the values this piece's facts point to (they may sit in any file).
            pointed.map(
              (table, i) =>
                `(SELECT * FROM ${table} WHERE _row IN (SELECT _c${i} FROM ${facts} WHERE _c${i} IS NOT NULL))`,
            ),
          ),
    pointedBytes,
    rowBytes: async () => {
      const sizes = variableBytes(shape, input);
      const [row] = sizes ? await duck.rows(sizes) : [];
      return rowBytes(shape, Number(row?.bytes ?? 0));
    },
    rowOrdered: inBuckets,
  };
}

/**
 * Memory a fact takes in the window passes' sort, with what runs beside it: under 1GB (10^9 bytes), one
 * window up to 12.5M facts. Measured on the benchmark's 10.3M facts: in one window the passes took
 * 12.1-15.3 s under 1GB and 768MB, 12.9-13.6 s under 600MB, against 19.0-20.5 s in two buckets (with
 * their write); under 512MB the whole builds were even. 103M facts under 1GB go in buckets: in one window
 * they spilled 12 GiB (186 s); in 9 buckets the passes take 80 s to write them and 108 s to sort them,
 * and leave them in row order, which is where the buckets save most: the join back's pieces then read
 * only their own rows (see fastFacts).
 */
export const WINDOW_BYTES_PER_FACT = 80;

/** In how many buckets of keys the window passes over `rows` facts run within `limitBytes`. */
export function windowBuckets(rows: number, limitBytes: number): number {
  return Math.max(1, Math.ceil((rows * WINDOW_BYTES_PER_FACT) / limitBytes));
}

/**
 * Rows DuckDB's partitioned writer buffers per partition and thread before it writes them out (its
 * default, 524,288, whatever their size and the number of partitions): a quarter of the memory limit
 * over the buffers.
 */
const BUFFER_SHARE = 4;
const MIN_BUFFERED_ROWS = 2048;

/**
 * Writes `facts` once, each row under its bucket's folder (`<dir>/_bucket=<b>/`, by a hash of the key),
 * and returns, per bucket that has rows, in bucket order, the query of its facts and its folder.
 */
async function bucketFacts(duck: Duck, shape: TableShape, facts: string, { count, dir }: KeyBuckets) {
  const [threads] = await duck.rows("SELECT current_setting('threads') AS n");
  const buffers = count * Number(threads?.n ?? 1);
  const rows = Math.floor((await duck.memoryLimitBytes()) / BUFFER_SHARE / buffers / WINDOW_BYTES_PER_FACT);
  await duck.run(`SET partitioned_write_flush_threshold = ${Math.max(MIN_BUFFERED_ROWS, rows)}`);
  try {
    // Internal encodings: at 10M changes in 9 buckets, 248 MB written in 4.2 s against 455 MB in 4.9 s.
    await duck.run(
      `COPY (SELECT *, ${keyBucket(shape, count)} AS _bucket FROM ${facts}) TO ${literal(dir)} (FORMAT parquet, PARTITION_BY (_bucket), COMPRESSION snappy, ${INTERNAL_ENCODING})`,
    );
  } finally {
    await duck.run("RESET partitioned_write_flush_threshold");
  }
  // Only the buckets that got rows have a folder (all of them written by the COPY above, in this run's
  // scratch dir).
  const written = new Set(await readdir(dir));
  return Array.from({ length: count }, (_, b) => `_bucket=${b}`)
    .filter((name) => written.has(name))
    .map((name) => path.join(dir, name))
    .map((folder) => ({ query: `(SELECT * FROM ${readParquet([path.join(folder, "*.parquet")])})`, folder }));
}
