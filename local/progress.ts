/**
 * Progress for `npm start`, on the tools' common reporter (bars on a terminal, JSON lines off it,
 * both on stderr; stdout carries only the final summary): its steps, the workload and the capture.
 */
import type { Logger } from "pino";
import { createProgress, type ProgressBar } from "../common/progress";
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

export function createReporter(): Reporter {
  const progress = createProgress({ component: "local-pipeline" });
  let workloadBar: ProgressBar | undefined;
  let landedBar: ProgressBar | undefined;
  return {
    logger: progress.logger,
    step: (message, fields) => progress.step(message, fields),
    workload(done, stats) {
      // Percent of the workload's duration.
      workloadBar ??= progress.bar("workload-progress", "workload", 100);
      workloadBar.update(Math.round(done * 100), {
        transactions: stats.transactions,
        changes: totalChanges(stats),
      });
    },
    landed(landed, expected) {
      landedBar ??= progress.bar("capture-progress", "capture ", expected);
      landedBar.setTotal(expected);
      landedBar.update(landed);
    },
    close: () => progress.close(),
  };
}
