/**
 * What `cdc-scd2 run` shows, on the tools' common reporter: on a terminal a bar per table (files
 * read, then the step it is at) and the summary table on stdout; elsewhere JSON lines on stdout (one
 * per file read and per step; the job logs table-started/done itself), which CloudWatch receives.
 */
import type { Logger } from "pino";
import { createProgress, type ProgressBar } from "../../common/progress";
import type { ProgressEvent, RunSummary, TableSummary } from "./job";

const COLUMNS: [string, (s: TableSummary) => string][] = [
  ["table", (s) => s.table],
  ["files", (s) => s.files.toLocaleString("en-US")],
  ["events", (s) => s.events.toLocaleString("en-US")],
  ["versions", (s) => s.versions.toLocaleString("en-US")],
  ["current", (s) => s.current.toLocaleString("en-US")],
  ["deleted", (s) => s.deleted.toLocaleString("en-US")],
  ["duration", (s) => `${(s.durationMs / 1000).toFixed(1)}s`],
];

/** The per-table summary as an aligned text table (numbers right-aligned). */
export function formatSummary(summary: RunSummary): string {
  const rows = [
    COLUMNS.map(([name]) => name),
    ...summary.tables.map((t) => COLUMNS.map(([, cell]) => cell(t))),
  ];
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  const warnings = summary.tables.flatMap((t) => (t.warning ? [`warning: ${t.table}: ${t.warning}`] : []));
  const reconciled = summary.tables.flatMap((t) =>
    t.inferredDeletes === undefined
      ? []
      : [
          `reconciled: ${t.table}: ${t.inferredDeletes} keys absent from the snapshot closed as deleted (is_deleted_inferred)`,
        ],
  );
  const notes = [...reconciled, ...warnings];
  return [
    line(rows[0]!),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.slice(1).map(line),
    ...(notes.length > 0 ? ["", ...notes] : []),
  ].join("\n");
}

export interface Reporter {
  logger: Logger;
  onProgress(event: ProgressEvent): void;
  finish(summary: RunSummary): void;
  fail(message: string): void;
}

export function createReporter(level: string): Reporter {
  const interactive = process.stdout.isTTY === true && process.stderr.isTTY === true;
  const progress = createProgress({
    component: "cdc-scd2",
    level,
    interactive,
    stream: interactive ? process.stderr : process.stdout,
  });
  const logger = progress.logger;
  if (!interactive) {
    // Node prints process warnings (e.g. the AWS SDK's Node version notice) as plain text on stderr;
    // log them as JSON lines instead, so every line CloudWatch receives parses.
    process.removeAllListeners("warning").on("warning", (warning) => {
      logger.warn({ event: "process-warning", warning: warning.name }, warning.message);
    });
  }
  const bars = new Map<string, { bar: ProgressBar; done: number }>();
  return {
    logger,
    onProgress(event) {
      if (!interactive) {
        if (event.type === "files-read")
          logger.info(
            { event: event.type, table: event.table, done: event.done, total: event.total },
            "files read",
          );
        else if (event.type === "step")
          logger.info({ event: event.type, table: event.table, step: event.step }, "step");
        return;
      }
      if (event.type === "table-started") {
        bars.set(event.table, { bar: progress.bar("files-read", event.table, event.files), done: 0 });
        return;
      }
      const table = event.type === "table-done" ? event.summary.table : event.table;
      const entry = bars.get(table);
      if (entry === undefined) return;
      if (event.type === "files-read") entry.done = event.done;
      const detail = event.type === "step" ? event.step : event.type === "table-done" ? "done" : "";
      entry.bar.update(entry.done, { detail: `files ${detail}` });
    },
    finish(summary) {
      if (!interactive) {
        logger.info(
          { event: "run-done", durationMs: summary.durationMs, tables: summary.tables },
          "run done",
        );
        return;
      }
      progress.close();
      process.stdout.write(
        `\n${formatSummary(summary)}\n\nfinished in ${(summary.durationMs / 1000).toFixed(1)}s\n`,
      );
    },
    fail(message) {
      if (!interactive) {
        logger.error({ event: "run-failed" }, message);
        return;
      }
      progress.close();
      process.stderr.write(`cdc-scd2: ${message}\n`);
    },
  };
}
