// Waiting for a connector to reach a state: a pure assessment of one status, and a bounded polling loop.
//
// After a config update (`PUT .../config` answering 200), Kafka Connect restarts the connector and its tasks
// asynchronously: for a while `GET .../status` still reports the old tasks, RUNNING (or FAILED) with the old
// config. Their state says nothing about the new config, so the wait first polls `GET .../tasks` until the
// task configs reflect the new config, and only then accepts RUNNING or fails on FAILED.
import type { ConnectClient } from "./client";
import { connectorError } from "./errors";
import type { ConnectorStatus, TaskConfig } from "./types";

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

/** A config update just applied: the config Connect ran before it, and the one it was given. */
export interface ConfigChange {
  previous: Record<string, string>;
  desired: Record<string, string>;
}

/**
 * Why the task configs are not (yet) the ones generated from `change.desired`, or undefined when they are.
 * Only the keys the update changed are compared (a connector may rewrite others in its task configs): a
 * task config is stale when it holds a changed key with another value than the new one, or a removed key
 * with its old value. A task config that mirrors the connector config (it carries `connector.class`, as
 * Debezium's and the S3 sink's copies do) is also stale when it lacks an added key. When the update changed
 * no key, or the task configs carry none of the changed keys, nothing tells old from new: Connect restarts
 * tasks only when their configs change, so the running tasks are accepted.
 */
export function staleTaskConfigs(tasks: TaskConfig[] | undefined, change: ConfigChange): string | undefined {
  const { previous, desired } = change;
  // No Set: the provider is serialized into the state (see retry.ts).
  const changed = [...Object.keys(previous), ...Object.keys(desired).filter((key) => !(key in previous))]
    .filter((key) => key !== "name" && previous[key] !== desired[key])
    .sort();
  if (changed.length === 0) return undefined;
  if (tasks === undefined) return "no task configs (404)";
  if (tasks.length === 0) return "no task configs yet";
  for (const task of tasks) {
    const mirrors = "connector.class" in task.config;
    for (const key of changed) {
      const value = task.config[key];
      const wanted = desired[key];
      if (!(key in task.config)) {
        if (mirrors && wanted !== undefined)
          return `task ${task.id.task} has no ${key} yet, the new config ${JSON.stringify(wanted)}`;
      } else if (wanted !== undefined && value !== wanted) {
        return `task ${task.id.task} still has ${key}=${JSON.stringify(value)}, the new config ${JSON.stringify(wanted)}`;
      } else if (wanted === undefined && value === previous[key]) {
        return `task ${task.id.task} still has ${key}=${JSON.stringify(value)}, removed from the config`;
      }
    }
  }
  return undefined;
}

/**
 * Before the tasks run the new config, the status is the old tasks': RUNNING and FAILED are both no
 * answer yet. Only a PAUSED or STOPPED connector ends the wait (a config update does not resume it).
 */
function assessBeforeRestart(status: ConnectorStatus | undefined, stale: string): StatusAssessment {
  const state = status?.connector.state;
  if (status && (state === "PAUSED" || state === "STOPPED")) return assessStatus(status, "RUNNING");
  const previous = status && assessStatus(status, "RUNNING");
  const failedBefore =
    previous?.outcome === "failed" ? `; until then the status shows ${previous.reason}` : "";
  return {
    outcome: "waiting",
    reason: `the tasks do not run the new config yet (${stale})${failedBefore}`,
  };
}

export interface WaitOptions {
  timeoutMs: number;
  pollIntervalMs: number;
  /**
   * Set after a config update: accept the status only once `GET .../tasks` shows task configs from the
   * new config (see staleTaskConfigs); until then each poll reads the task configs, then the status.
   */
  change?: ConfigChange;
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
  let reconfigured = options.change === undefined;
  for (;;) {
    let stale: string | undefined;
    if (!reconfigured) {
      stale = staleTaskConfigs(await client.getTaskConfigs(), options.change!);
      reconfigured = stale === undefined;
    }
    const status = await client.getStatus();
    const assessment = reconfigured ? assessStatus(status, target) : assessBeforeRestart(status, stale!);
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
