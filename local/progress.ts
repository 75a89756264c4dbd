/**
 * Progress for `npm start`: bars on a terminal (cli-progress), structured JSON lines (pino) when
 * stderr is not a terminal. Both go to stderr; stdout carries only the final summary.
 */
import { MultiBar, Presets, type SingleBar } from "cli-progress";
import pino, { type Logger } from "pino";
import type { WorkloadStats } from "./workload";

export interface Reporter {
  /** Structured logger (the connector runtime logs through it too). */
  readonly logger: Logger;
  step(message: string, fields?: Record<string, unknown>): void;
  workload(done: number, stats: WorkloadStats): void;
  landed(landed: number, expected: number): void;
  close(): void;
}

function totalChanges(stats: WorkloadStats): number {
  return Object.values(stats.changes).reduce((sum, c) => sum + c.inserts + c.updates + c.deletes, 0);
}

function jsonReporter(): Reporter {
  const logger = pino({ base: { component: "local-pipeline" } }, pino.destination(2));
  return {
    logger,
    step: (message, fields) => logger.info({ event: "step", ...fields }, message),
    workload: (done, stats) =>
      logger.info(
        {
          event: "workload-progress",
          done: Number(done.toFixed(3)),
          transactions: stats.transactions,
          changes: totalChanges(stats),
        },
        "workload running",
      ),
    landed: (landed, expected) =>
      logger.info({ event: "capture-progress", landed, expected }, "waiting for files"),
    close: () => logger.flush(),
  };
}

function terminalReporter(): Reporter {
  // Only warnings from the runtime: anything chattier would tear the bars.
  const logger = pino({ level: "warn" }, pino.destination(2));
  const bars = new MultiBar(
    { format: " {label} [{bar}] {percentage}% {detail}", hideCursor: true, clearOnComplete: false },
    Presets.shades_classic,
  );
  let workloadBar: SingleBar | undefined;
  let landedBar: SingleBar | undefined;
  return {
    logger,
    step: (message) => bars.log(`${message}\n`),
    workload(done, stats) {
      workloadBar ??= bars.create(100, 0, { label: "workload", detail: "" });
      workloadBar.update(Math.round(done * 100), {
        detail: `${stats.transactions} transactions, ${totalChanges(stats)} row changes`,
      });
    },
    landed(landed, expected) {
      landedBar ??= bars.create(expected, 0, { label: "capture ", detail: "" });
      landedBar.setTotal(expected);
      landedBar.update(Math.min(landed, expected), {
        detail: `${landed}/${expected} change records in the bucket`,
      });
    },
    close: () => bars.stop(),
  };
}

export function createReporter(): Reporter {
  return process.stderr.isTTY ? terminalReporter() : jsonReporter();
}
