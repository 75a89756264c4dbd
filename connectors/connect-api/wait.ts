// Waiting for a connector to reach a state: a pure assessment of one status, and a bounded polling loop.
import type { ConnectClient } from "./client";
import { connectorError } from "./errors";
import type { ConnectorStatus } from "./types";

export type WaitTarget = "RUNNING" | "STOPPED";

export type StatusAssessment =
  { outcome: "done" } | { outcome: "failed"; reason: string } | { outcome: "waiting"; reason: string };

/** Where a status stands relative to the target state. A FAILED connector or task ends a wait for RUNNING, with its trace. */
export function assessStatus(status: ConnectorStatus | undefined, target: WaitTarget): StatusAssessment {
  if (status === undefined) return { outcome: "waiting", reason: "no status yet (404)" };
  const { connector, tasks } = status;
  if (target === "STOPPED") {
    // A FAILED connector stops too (offset reset before delete): keep waiting for the stop to land.
    return connector.state === "STOPPED"
      ? { outcome: "done" }
      : { outcome: "waiting", reason: `connector is ${connector.state}` };
  }
  if (connector.state === "FAILED") {
    return {
      outcome: "failed",
      reason: `connector FAILED on ${connector.worker_id}: ${connector.trace ?? "(no trace)"}`,
    };
  }
  const failed = tasks.find((task) => task.state === "FAILED");
  if (failed) {
    return {
      outcome: "failed",
      reason: `task ${failed.id} FAILED on ${failed.worker_id}: ${failed.trace ?? "(no trace)"}`,
    };
  }
  if (connector.state === "PAUSED" || connector.state === "STOPPED") {
    // A config update does not resume a connector an operator paused or stopped: say so instead of timing out.
    return {
      outcome: "failed",
      reason: `connector is ${connector.state}; resume it (PUT /connectors/${status.name}/resume) and run again`,
    };
  }
  if (connector.state !== "RUNNING") return { outcome: "waiting", reason: `connector is ${connector.state}` };
  if (tasks.length === 0) return { outcome: "waiting", reason: "connector is RUNNING with no task yet" };
  const notRunning = tasks.filter((task) => task.state !== "RUNNING");
  if (notRunning.length > 0) {
    return {
      outcome: "waiting",
      reason: notRunning.map((task) => `task ${task.id} is ${task.state}`).join(", "),
    };
  }
  return { outcome: "done" };
}

export interface WaitOptions {
  timeoutMs: number;
  pollIntervalMs: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** Polls the status until `target`, failing on FAILED or after `timeoutMs` with the last state seen. */
export async function waitForState(
  client: ConnectClient,
  connector: string,
  target: WaitTarget,
  options: WaitOptions,
): Promise<ConnectorStatus> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  for (;;) {
    const status = await client.getStatus();
    const assessment = assessStatus(status, target);
    if (assessment.outcome === "done") return status!;
    if (assessment.outcome === "failed")
      throw connectorError(connector, `not ${target}: ${assessment.reason}`);
    if (now() + options.pollIntervalMs > deadline) {
      throw connectorError(
        connector,
        `not ${target} after ${options.timeoutMs / 1000} s (timeouts.runningTimeoutSeconds): ${assessment.reason}`,
      );
    }
    await sleep(options.pollIntervalMs);
  }
}
