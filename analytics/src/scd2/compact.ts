import type { Duck } from "../duck";
import { readParquet } from "../sql";
import type { FileEntry } from "../state/manifest";
import type { Storage } from "../storage/storage";
import { entryOf, localCopies, writeParquet } from "./files";
import type { PendingFile } from "./files";

/** Every run adds a history file and an applied file; at this many, the small ones are merged. */
export const COMPACT_AT = 32;

export interface Compaction<T> {
  files: T[];
  written: PendingFile[];
  superseded: string[];
}

interface CompactContext {
  duck: Duck;
  output: Storage;
  stagingDir: string;
  scratchDir: string;
}

/**
 * Keeps the number of history files bounded: with COMPACT_AT or more, all but the largest are merged
 * into one file (`key`), so a row is rewritten only a few times over the table's life.
 */
export async function compactHistory(
  ctx: CompactContext,
  history: FileEntry[],
  key: string,
): Promise<Compaction<FileEntry>> {
  if (history.length < COMPACT_AT) return { files: history, written: [], superseded: [] };
  const largest = history.reduce((a, b) => (b.rows > a.rows ? b : a));
  const small = history.filter((f) => f !== largest);
  const paths = await localCopies(
    ctx.output,
    small.map((f) => f.key),
    ctx.stagingDir,
  );
  const merged = await writeParquet(ctx.duck, `SELECT * FROM ${readParquet(paths)}`, key, ctx.scratchDir);
  return { files: [largest, entryOf(merged)], written: [merged], superseded: small.map((f) => f.key) };
}

/** The same for the applied-position files of earlier runs: with COMPACT_AT or more, they become one. */
export async function compactApplied(
  ctx: CompactContext,
  applied: string[],
  key: string,
): Promise<Compaction<string>> {
  if (applied.length < COMPACT_AT) return { files: applied, written: [], superseded: [] };
  const paths = await localCopies(ctx.output, applied, ctx.stagingDir);
  const merged = await writeParquet(
    ctx.duck,
    `SELECT * FROM ${readParquet(paths, true)}`,
    key,
    ctx.scratchDir,
  );
  return { files: [key], written: [merged], superseded: applied };
}
