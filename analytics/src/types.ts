import type { Logger } from "pino";
import type { ReconcileWindow } from "./scd2/reconcile";
import type { Storage } from "./storage/storage";

export type { ReconcileWindow } from "./scd2/reconcile";

/**
 * How a column is encoded in the change files, when it must be decoded into a proper type.
 * The Parquet footer's Avro schema gives it for Parquet files; JSON files need it spelled out.
 * - `micro-timestamp` / `milli-timestamp` / `nano-timestamp`: integer since the epoch, no zone → TIMESTAMP
 * - `zoned-timestamp`: ISO-8601 string → TIMESTAMPTZ
 * - `date`: days since the epoch → DATE
 * - `micro-time` / `milli-time` / `nano-time`: since midnight → TIME
 * - `micro-duration`: approximate microseconds → INTERVAL
 * - `decimal(p,s)`: a Connect Decimal (bytes or base64 text, or a JSON number) → DECIMAL(p,s)
 * - `variable-scale-decimal`: Debezium's {scale, value} struct → DOUBLE
 * - `as-is`: keep the column exactly as delivered (turns off footer-driven decoding)
 */
export type ColumnEncoding =
  | "micro-timestamp"
  | "milli-timestamp"
  | "nano-timestamp"
  | "zoned-timestamp"
  | "date"
  | "micro-time"
  | "milli-time"
  | "nano-time"
  | "micro-duration"
  | `decimal(${number},${number})`
  | "variable-scale-decimal"
  | "as-is";

export interface TableSpec {
  /** Source table as `<schema>.<table>`, e.g. `commerce.products`. Its topic is `<topicPrefix>.<table>`. */
  table: string;
  /** Primary-key columns; default `["id"]`. */
  primaryKey?: string[];
  /** Per-column encodings; they win over the Parquet footer. Required for typed columns in JSON files. */
  columnTypes?: Record<string, ColumnEncoding>;
}

export interface RunOptions {
  /** The sink's topics dir: `<topic>/partition=<n>/<topic>+<n>+<offset>.<ext>` below it. */
  source: Storage;
  /** Where `<table name>/` SCD2 tables and `_state/` live. */
  output: Storage;
  tables: TableSpec[];
  /** Debezium `topic.prefix`, e.g. `cdc`. */
  topicPrefix: string;
  /** Rebuild every table from all source files instead of processing only new files. */
  fullRefresh: boolean;
  /** Local scratch directory: DuckDB spill files, staged downloads, files before upload. */
  workDir: string;
  /**
   * A folder (the CLI's temp dir) whose work dirs left by killed runs are removed once the run holds its
   * lock: see removeStaleWorkDirs in workdir.ts.
   */
  staleWorkDirs?: string;
  /** DuckDB `memory_limit`, e.g. `"4GB"`; default `"1GB"` (DEFAULT_MEMORY_LIMIT). */
  memoryLimit?: string;
  /** DuckDB `threads`; default: DuckDB's (number of cores). */
  threads?: number;
  /**
   * In how many buckets of keys a table's changes are sorted, each bucket alone: more buckets, less
   * memory, the same output. Default: as many as the changes need to fit `memoryLimit` (one up to about
   * 10M changes under 1GB).
   */
  keyBuckets?: number;
  onProgress?: (event: ProgressEvent) => void;
  logger?: Logger;
  /**
   * A table with no change files at all is a warning in its summary; the run fails when no table has
   * any, and with `requireFiles` when any table has none.
   */
  requireFiles?: boolean;
  /** A run lock not refreshed for this long is taken over; default 6 hours. */
  lockStaleAfterMs?: number;
  /**
   * Free bytes on the file system holding a directory; default `statfs` (freeBytesOf in disk.ts). The
   * run checks before it downloads anything that its downloads and local writes fit in the work dir.
   */
  freeBytes?: (dir: string) => Promise<number>;
  /** How often a run refreshes its lock; default a quarter of lockStaleAfterMs, 1 s to 5 min. */
  lockHeartbeatMs?: number;
  /**
   * Complete snapshots that followed a gap (a lost slot), one window per table and snapshot: keys current
   * in the history but absent from the window are closed as deleted (`is_deleted_inferred`). Default none:
   * without a window the job never infers a delete. Recorded in the state; a full refresh applies them again.
   */
  reconcile?: ReconcileWindow[];
}

export interface TableSummary {
  /** `commerce.products`. */
  table: string;
  /** New source files processed by this run. */
  files: number;
  /** Change events read from those files. */
  events: number;
  /** Rows of the SCD2 table after the run. */
  versions: number;
  /** Rows with `is_current` (live keys). */
  current: number;
  /** Rows with `is_deleted` (versions a delete ended). */
  deleted: number;
  /**
   * Keys this run closed as deleted by reconciliation (RunOptions.reconcile): current in the history but
   * absent from a complete snapshot after a gap. Present only when the table had a window to apply.
   */
  inferredDeletes?: number;
  durationMs: number;
  /** Why the table may not be what was meant, e.g. its topic has no change files at all. */
  warning?: string;
}

export interface RunSummary {
  tables: TableSummary[];
  durationMs: number;
}

export type ProgressEvent =
  | { type: "table-started"; table: string; files: number }
  | { type: "files-read"; table: string; done: number; total: number }
  /** The build moved on to its next long step (a DuckDB statement or several), e.g. "writing current versions". */
  | { type: "step"; table: string; step: string }
  | { type: "table-done"; summary: TableSummary };
