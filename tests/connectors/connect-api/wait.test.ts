import { describe, expect, it } from "vitest";
import { assessStatus, type ConnectorStatus, type StatusAssessment } from "../../../connectors/connect-api";

type Task = ConnectorStatus["tasks"][number];
const status = (
  connector: ConnectorStatus["connector"]["state"],
  tasks: Array<Partial<Task>>,
  trace?: string,
): ConnectorStatus => ({
  name: "cdc-source",
  connector: { state: connector, worker_id: "w1", ...(trace ? { trace } : {}) },
  tasks: tasks.map((task, id) => ({ id, state: "RUNNING", worker_id: "w2", ...task })),
});

describe("assessStatus towards RUNNING", () => {
  it.each<[string, ConnectorStatus | undefined, StatusAssessment]>([
    ["no status yet", undefined, { outcome: "waiting", reason: "no status yet (404)" }],
    ["all running", status("RUNNING", [{}, {}]), { outcome: "done" }],
    [
      "no task yet",
      status("RUNNING", []),
      { outcome: "waiting", reason: "connector is RUNNING with no task yet" },
    ],
    [
      "connector unassigned",
      status("UNASSIGNED", []),
      { outcome: "waiting", reason: "connector is UNASSIGNED" },
    ],
    [
      "connector restarting",
      status("RESTARTING", [{}]),
      { outcome: "waiting", reason: "connector is RESTARTING" },
    ],
    [
      "tasks starting",
      status("RUNNING", [{ state: "UNASSIGNED" }, {}, { state: "RESTARTING" }]),
      { outcome: "waiting", reason: "task 0 is UNASSIGNED, task 2 is RESTARTING" },
    ],
    [
      "a task failed",
      status("RUNNING", [
        {},
        { state: "FAILED", trace: "org.apache.kafka.connect.errors.ConnectException: boom" },
      ]),
      {
        outcome: "failed",
        reason: "task 1 FAILED on w2: org.apache.kafka.connect.errors.ConnectException: boom",
      },
    ],
    [
      "the connector failed",
      status("FAILED", [], "java.lang.IllegalStateException: no slot"),
      { outcome: "failed", reason: "connector FAILED on w1: java.lang.IllegalStateException: no slot" },
    ],
    [
      "paused by an operator",
      status("PAUSED", [{ state: "PAUSED" }]),
      {
        outcome: "failed",
        reason: "connector is PAUSED; resume it (PUT /connectors/cdc-source/resume) and run again",
      },
    ],
  ])("%s", (_case, given, expected) => {
    expect(assessStatus(given, "RUNNING")).toEqual(expected);
  });
});

describe("assessStatus towards STOPPED", () => {
  it.each<[string, ConnectorStatus | undefined, StatusAssessment]>([
    ["stopped", status("STOPPED", []), { outcome: "done" }],
    ["still running", status("RUNNING", [{}]), { outcome: "waiting", reason: "connector is RUNNING" }],
    [
      "failed, stop not landed yet",
      status("FAILED", [], "trace"),
      { outcome: "waiting", reason: "connector is FAILED" },
    ],
  ])("%s", (_case, given, expected) => {
    expect(assessStatus(given, "STOPPED")).toEqual(expected);
  });
});
