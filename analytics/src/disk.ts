import * as fs from "node:fs/promises";
import { Scd2Error } from "./errors";
import type { TableState } from "./state/manifest";
import { STATE_DIR } from "./state/manifest";
import type { Storage, StoredObject } from "./storage/storage";

/** The stack config key that sizes the SCD2 task's local disk (Fargate ephemeral storage, in GiB). */
export const DISK_CONFIG_KEY = "scd2EphemeralStorageGiB";

/**
 * Local bytes a run writes besides its downloads, per byte of change files it reads: the files it writes
 * before uploading them (history, current, key state, applied positions) and DuckDB's spill files, at
 * their peak. Measured with `npm run bench:scd2` (Parquet input, default 1GB memory limit): the work dir
 * peaked at 2.02× the input at 10M events (2.50× under 512MB) and at 3.29× at 100M events, where the
 * window pass's sort spills 12.5 GiB; 4 leaves a margin.
 */
export const WRITTEN_PER_INPUT_BYTE = 4;

/** What a run will put on the work dir's file system, in bytes. */
export interface DiskNeed {
  /** Objects downloaded into the staging dir (S3 change files and state files not staged before). */
  downloads: number;
  /** Files written before upload, and spill, estimated from the input (WRITTEN_PER_INPUT_BYTE). */
  written: number;
}

/** Bytes as people read them: `512 B`, `1.5 MiB`, `20.0 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * The message for a run that would not fit on the work dir's file system, or undefined when it fits.
 * Names both figures, in bytes and readable, and what to raise.
 */
export function diskShortfall(need: DiskNeed, freeBytes: number, workDir: string): string | undefined {
  const needed = need.downloads + need.written;
  if (needed <= freeBytes) return undefined;
  const both = (n: number) => `${formatBytes(n)} (${n} bytes)`;
  return (
    `not enough local disk in ${workDir}: the run needs ${both(needed)} ` +
    `(${formatBytes(need.downloads)} of downloads, ${formatBytes(need.written)} written before upload and spilled), ` +
    `but only ${both(freeBytes)} are free; raise the stack config ${DISK_CONFIG_KEY} ` +
    `(the task's ephemeral storage), or pass --work-dir on a larger volume (nothing was downloaded or written)`
  );
}

/** Free bytes for this user on the file system holding `dir` (statfs: available blocks × block size). */
export async function freeBytesOf(dir: string): Promise<number> {
  const stats = await fs.statfs(dir);
  return stats.bavail * stats.bsize;
}

/** Throws an Scd2Error when `need` does not fit in the free space of `workDir`'s file system. */
export async function checkDiskSpace(
  need: DiskNeed,
  workDir: string,
  freeBytes: (dir: string) => Promise<number> = freeBytesOf,
): Promise<void> {
  const message = diskShortfall(need, await freeBytes(workDir), workDir);
  if (message !== undefined) throw new Scd2Error(message);
}

/** What `diskNeed` needs to know of a table (a subset of ResolvedTable). */
interface NeedTable {
  table: string;
  dir: string;
}

/**
 * What a run will put on local disk, from listings only (nothing is downloaded yet): the change files it
 * will read (all under a full refresh, else those the manifest does not record as applied) and, for an
 * incremental table, its key state and current versions, which it downloads and rewrites.
 */
export async function diskNeed(
  source: Storage,
  output: Storage,
  stagingDir: string,
  tables: readonly { spec: NeedTable; files: readonly StoredObject[]; previous: TableState | undefined }[],
  fullRefresh: boolean,
): Promise<DiskNeed> {
  const need: DiskNeed = { downloads: 0, written: 0 };
  for (const { spec, files, previous } of tables) {
    const prev = fullRefresh ? undefined : previous;
    const fresh = prev ? files.filter((f) => prev.processed[f.key] !== f.etag) : files;
    if (fresh.length === 0) continue;
    need.downloads += await source.stagedBytes(fresh, stagingDir);
    need.written += WRITTEN_PER_INPUT_BYTE * fresh.reduce((n, f) => n + f.size, 0);
    if (!prev) continue;
    const state = (await output.list(`${STATE_DIR}/${spec.table}/keys/`))
      .concat(await output.list(`${spec.dir}/current/`))
      .filter((o) => prev.keys.includes(o.key) || o.key === prev.current.key);
    need.downloads += await output.stagedBytes(state, stagingDir);
    need.written += state.reduce((n, o) => n + o.size, 0);
  }
  return need;
}
