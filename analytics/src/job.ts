import type { RunOptions, RunSummary } from "./types";

export { Scd2Error } from "./errors";
export type { ColumnEncoding, ProgressEvent, RunOptions, RunSummary, TableSpec, TableSummary } from "./types";

/**
 * Builds or updates the SCD2 table of every table in `options.tables`.
 * Throws `Scd2Error` naming the file or table at fault; the previous output stays intact.
 */
export async function runScd2(options: RunOptions): Promise<RunSummary> {
  void options;
  throw new Error("runScd2: engine not written yet (interface only)");
}
