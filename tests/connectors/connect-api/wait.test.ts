import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  assessStatus,
  createConnectClient,
  staleTaskConfigs,
  waitForState,
  type ConfigChange,
  type ConnectorStatus,
  type StatusAssessment,
  type TaskConfig,
} from "../../../connectors/connect-api";
import { ConnectEmulator } from "./connect-emulator";
import { FAST_RETRY, SOURCE_CONFIG } from "./fixtures";

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

describe("staleTaskConfigs", () => {
  const CLASS = "io.debezium.connector.postgresql.PostgresConnector";
  const previous = {
    "connector.class": CLASS,
    "tasks.max": "1",
    "slot.name": "cdc_slot",
    "snapshot.mode": "initial",
    name: "cdc-source",
  };
  // Task configs of a connector that does not copy its config into them (no connector.class).
  const { "connector.class": _class, ...notMirrored } = previous;
  const tasks = (...configs: Array<Record<string, string>>): TaskConfig[] =>
    configs.map((config, task) => ({ id: { connector: "cdc-source", task }, config }));
  it.each<[string, Record<string, string>, TaskConfig[] | undefined, string | undefined]>([
    ["nothing changed", previous, tasks(previous), undefined],
    ["only the name key differs", { ...previous, name: "x" }, tasks(previous), undefined],
    [
      "a changed key still old",
      { ...previous, "slot.name": "cdc_slot_2" },
      tasks(previous),
      'task 0 still has slot.name="cdc_slot", the new config "cdc_slot_2"',
    ],
    [
      "a changed key new in every task",
      { ...previous, "tasks.max": "2" },
      tasks({ ...previous, "tasks.max": "2" }, { ...previous, "tasks.max": "2" }),
      undefined,
    ],
    [
      "a removed key still in a task",
      { "connector.class": CLASS, "tasks.max": "1", "slot.name": "cdc_slot" },
      tasks(previous),
      'task 0 still has snapshot.mode="initial", removed from the config',
    ],
    [
      "a removed key gone from the task",
      { "connector.class": CLASS, "tasks.max": "1", "slot.name": "cdc_slot" },
      tasks({ "connector.class": CLASS, "tasks.max": "1", "slot.name": "cdc_slot" }),
      undefined,
    ],
    [
      "an added key not yet in a task that mirrors the config",
      { ...previous, "heartbeat.interval.ms": "10000" },
      tasks(previous),
      'task 0 has no heartbeat.interval.ms yet, the new config "10000"',
    ],
    [
      "an added key not in a task that does not mirror the config (cannot tell)",
      { ...previous, "heartbeat.interval.ms": "10000" },
      tasks(notMirrored),
      undefined,
    ],
    [
      "an added key with another value in the second task",
      { ...previous, "heartbeat.interval.ms": "10000" },
      tasks({ ...previous, "heartbeat.interval.ms": "10000" }, { ...previous, "heartbeat.interval.ms": "1" }),
      'task 1 still has heartbeat.interval.ms="1", the new config "10000"',
    ],
    [
      "task configs that carry no changed key",
      { ...previous, "tasks.max": "2" },
      tasks({ file: "x" }),
      undefined,
    ],
    ["no task config yet", { ...previous, "tasks.max": "2" }, [], "no task configs yet"],
    ["connector gone", { ...previous, "tasks.max": "2" }, undefined, "no task configs (404)"],
  ])("%s", (_case, desired, given, expected) => {
    expect(staleTaskConfigs(given, { previous, desired })).toBe(expected);
  });
});

// waitForState after a config update, against the emulator on a clock the test drives: each sleep
// advances it, so the calls are exact. The emulator restarts the tasks `restartDelayMs` after the PUT;
// until then the old tasks report RUNNING (or FAILED) and GET .../tasks shows the old task configs.
describe("waitForState after a config update", () => {
  let clock = 0;
  let connect: ConnectEmulator;
  beforeAll(async () => {
    connect = await ConnectEmulator.start({ now: () => clock });
  });
  afterAll(() => connect.stop());
  afterEach(() => connect.reset());

  const client = () =>
    createConnectClient({
      connectUrl: connect.url,
      connector: "cdc-source",
      requestTimeoutMs: 1_000,
      retry: FAST_RETRY,
    });
  const options = (change: ConfigChange | undefined, timeoutMs = 1_000) => ({
    timeoutMs,
    pollIntervalMs: 10,
    change,
    now: () => clock,
    sleep: async (ms: number) => {
      clock += ms;
    },
  });
  const NEW_CONFIG = { ...SOURCE_CONFIG, "tasks.max": "2" };
  const CHANGE: ConfigChange = { previous: SOURCE_CONFIG, desired: NEW_CONFIG };
  const POLL_BEFORE_RESTART = ["GET /connectors/cdc-source/tasks", "GET /connectors/cdc-source/status"];

  /** The connector RUNNING with SOURCE_CONFIG, then the update PUT at clock 0 with `behaviour`. */
  async function updated(behaviour: Parameters<ConnectEmulator["behave"]>[1], before = {}) {
    clock = -1_000;
    connect.behave("cdc-source", before);
    await client().putConfig(SOURCE_CONFIG);
    clock = 0;
    connect.behave("cdc-source", behaviour);
    expect((await client().putConfig(NEW_CONFIG)).created).toBe(false);
    connect.resetCalls();
  }

  async function rejection(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => new Error("expected a failure"),
      (err: unknown) => err as Error,
    );
    return error.message;
  }

  it("without the change, the old tasks' RUNNING is taken for the update's (what it guards against)", async () => {
    await updated({ restartDelayMs: 30, failTask: { id: 0, trace: "boom" } });
    const status = await waitForState(client(), "cdc-source", "RUNNING", options(undefined));
    expect(status.tasks.map((t) => t.state)).toEqual(["RUNNING"]);
    expect(connect.callLines()).toEqual(["GET /connectors/cdc-source/status"]);
  });

  it("fails with the restarted task's trace, not the old tasks' RUNNING", async () => {
    const trace =
      'io.debezium.DebeziumException: Creation of replication slot failed; slot "cdc_slot_2" exists';
    await updated({ restartDelayMs: 30, failTask: { id: 0, trace } });
    expect(await rejection(waitForState(client(), "cdc-source", "RUNNING", options(CHANGE)))).toBe(
      `Kafka Connect connector "cdc-source": not RUNNING: task 0 FAILED on 10.0.1.10:8083: ${trace}`,
    );
    // Polls at 0, 10 and 20 see the old task config; at 30 the restarted task, FAILED.
    expect(connect.callLines()).toEqual([
      ...POLL_BEFORE_RESTART,
      ...POLL_BEFORE_RESTART,
      ...POLL_BEFORE_RESTART,
      ...POLL_BEFORE_RESTART,
    ]);
    expect(clock).toBe(30);
  });

  it("returns only after the restart, once the new tasks RUN", async () => {
    await updated({ restartDelayMs: 30, startupMs: 20 });
    const status = await waitForState(client(), "cdc-source", "RUNNING", options(CHANGE));
    // Debezium's Postgres source runs one task whatever tasks.max says.
    expect(status.tasks.map((t) => [t.id, t.state])).toEqual([[0, "RUNNING"]]);
    // Restart at 30: UNASSIGNED at 30, tasks UNASSIGNED at 40, RUNNING at 50 (status only, once reconfigured).
    expect(clock).toBe(50);
    expect(connect.callLines()).toEqual([
      ...POLL_BEFORE_RESTART,
      ...POLL_BEFORE_RESTART,
      ...POLL_BEFORE_RESTART,
      ...POLL_BEFORE_RESTART,
      "GET /connectors/cdc-source/status",
      "GET /connectors/cdc-source/status",
    ]);
  });

  it("waits past the old tasks' FAILED when the update fixes them", async () => {
    await updated({ restartDelayMs: 20 }, { failTask: { id: 0, trace: "old failure" } });
    const status = await waitForState(client(), "cdc-source", "RUNNING", options(CHANGE));
    expect(status.tasks.map((t) => t.state)).toEqual(["RUNNING"]);
    expect(connect.callLines()).toEqual([
      ...POLL_BEFORE_RESTART,
      ...POLL_BEFORE_RESTART,
      ...POLL_BEFORE_RESTART,
    ]);
  });

  it("times out, within the bound, when the tasks never restart, saying so", async () => {
    await updated({ restartDelayMs: 60_000 }, { failTask: { id: 0, trace: "old failure" } });
    expect(await rejection(waitForState(client(), "cdc-source", "RUNNING", options(CHANGE, 50)))).toBe(
      'Kafka Connect connector "cdc-source": not RUNNING after 0.05 s (timeouts.runningTimeoutSeconds): ' +
        'the tasks do not run the new config yet (task 0 still has tasks.max="1", the new config "2"); ' +
        "until then the status shows task 0 FAILED on 10.0.1.10:8083: old failure",
    );
    // Polls at 0, 10, ..., 50.
    expect(connect.callLines()).toEqual(Array.from({ length: 6 }, () => POLL_BEFORE_RESTART).flat());
  });

  it("fails at once on a connector an operator paused, before any restart", async () => {
    await updated({ restartDelayMs: 60_000 });
    await fetch(`${connect.url}/connectors/cdc-source/pause`, { method: "PUT" });
    connect.resetCalls();
    expect(await rejection(waitForState(client(), "cdc-source", "RUNNING", options(CHANGE)))).toBe(
      'Kafka Connect connector "cdc-source": not RUNNING: connector is PAUSED; resume it (PUT /connectors/cdc-source/resume) and run again',
    );
    expect(connect.callLines()).toEqual(POLL_BEFORE_RESTART);
  });
});
