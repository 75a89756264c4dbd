// KafkaConnector under the real Pulumi engine, on a real Kafka Connect cluster with the real Debezium source:
// no mocks. The engine loads the serialized dynamic provider in its own process, as it does in production.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent, Stack, StepEventMetadata } from "@pulumi/pulumi/automation";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTopic } from "../../../engines";
import { CDC_PASSWORD, PASSWORD_ENV, startTestBed, type TestBed } from "./real-engine/bed";
import {
  BROKEN_NAME,
  connectorProgram,
  PRODUCTS_TOPIC,
  SINK_NAME,
  SOURCE_NAME,
  type StackSpec,
} from "./real-engine/program";

const CONNECTOR_TYPE = "pulumi-nodejs:dynamic/connect:KafkaConnector";

let bed: TestBed;
let stack: Stack;
let spec: StackSpec;

async function connect(path: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${bed.workers[0]!.url}${path}`, {
    ...init,
    headers: { "content-type": "application/json" },
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}

async function liveConfig(name: string): Promise<Record<string, string>> {
  return (await connect(`/connectors/${name}/config`)).body as Record<string, string>;
}

async function states(name: string): Promise<string[]> {
  const { body } = await connect(`/connectors/${name}/status`);
  const status = body as { connector: { state: string }; tasks: { state: string }[] };
  return [status.connector.state, ...status.tasks.map((t) => t.state)];
}

async function topicNames(): Promise<string[]> {
  const admin = new Kafka({ brokers: [bed.broker.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((t) => !t.startsWith("__consumer")).sort();
  } finally {
    await admin.disconnect();
  }
}

/** What the engine reported for each connector: `[resource name, op]`, from the events of one operation. */
function connectorSteps(
  events: EngineEvent[],
  kind: "resourcePreEvent" | "resOutputsEvent",
): [string, string][] {
  return events.flatMap((e) => {
    const metadata = e[kind]?.metadata;
    return metadata?.type === CONNECTOR_TYPE
      ? [[metadata.urn.split("::").pop()!, metadata.op] as [string, string]]
      : [];
  });
}

function stepOf(
  events: EngineEvent[],
  kind: "resourcePreEvent" | "resOutputsEvent",
  name: string,
): StepEventMetadata {
  const found = events.find((e) => e[kind]?.metadata.urn.endsWith(`::${name}`));
  if (!found) throw new Error(`no ${kind} for ${name}`);
  return found[kind]!.metadata;
}

/**
 * The config keys whose values differ between the engine's old and new state of a step. The nodejs
 * dynamic-provider host (through @pulumi/pulumi 3.276) passes no detailed diff to the engine, so the events
 * carry no `diffs`/`detailedDiff`: the old and new states are the engine's structured account of a change.
 */
function changedConfigKeys(
  step: StepEventMetadata,
  side: "inputs" | "outputs",
): Record<string, [unknown, unknown]> {
  const before = (step.old?.[side]?.config ?? {}) as Record<string, unknown>;
  const after = (step.new?.[side]?.config ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return Object.fromEntries(
    keys.filter((k) => before[k] !== after[k]).map((k) => [k, [before[k], after[k]]]),
  );
}

/** The lines of `pulumi preview --diff` output that mark a changed property (`~ key: old => new`). */
function changedLines(stdout: string): string[] {
  return stdout
    .slice(0, stdout.indexOf("\nResources:"))
    .split("\n")
    .filter((line) => /^\s+[~+-] \S/.test(line) && !line.includes("pulumi-nodejs:dynamic"))
    .map((line) => line.trim().replace(/\s+:/, ":"));
}

beforeAll(async () => {
  bed = await startTestBed();
  await bed.db.query(
    `INSERT INTO commerce.products (id, sku, name, price) OVERRIDING SYSTEM VALUE
     VALUES (1, 'L-1', 'lamp', 19.90), (2, 'D-2', 'desk', 240.00)`,
  );
  const worker = await bed.addWorker();
  spec = { connectUrl: worker.url, databasePort: bed.postgres.port, sinkFile: join(bed.root, "sink.txt") };
  stack = await bed.pulumi.stack({
    projectName: "cdc-real-engine",
    stackName: "test",
    program: connectorProgram(() => spec),
  });
}, 600_000);

afterAll(async () => bed?.close());

describe("KafkaConnector under the real engine, on real Kafka Connect", () => {
  it("the broker accepted the stack's topic plan (names, partitions, configs)", async () => {
    expect(await topicNames()).toEqual(
      [
        "__debezium-heartbeat.cdc",
        "cdc-connect-configs",
        "cdc-connect-offsets",
        "cdc-connect-status",
        "cdc.commerce.cdc_signal",
        "cdc.commerce.products",
        "cdc.commerce.users",
      ].sort(),
    );
  });

  it("creates both connectors and returns only when every task is RUNNING", async () => {
    const events: EngineEvent[] = [];
    const result = await stack.up({ onEvent: (e) => events.push(e) });
    expect(result.summary.result).toBe("succeeded");
    // The engine creates the two independent connectors concurrently: compare them in name order.
    expect(connectorSteps(events, "resOutputsEvent").sort()).toEqual([
      ["sink", "create"],
      ["source", "create"],
    ]);
    const workerId = bed.workers[0]!.workerId;
    expect(result.outputs.sourceState?.value).toBe("RUNNING");
    expect(result.outputs.sourceTasks?.value).toEqual([{ id: 0, state: "RUNNING", workerId }]);
    expect(result.outputs.sinkTasks?.value).toEqual([{ id: 0, state: "RUNNING", workerId }]);
    expect(await states(SOURCE_NAME)).toEqual(["RUNNING", "RUNNING"]);
    expect(await states(SINK_NAME)).toEqual(["RUNNING", "RUNNING"]);
  });

  it("streams the snapshot and later changes into Kafka, through the password the worker resolved", async () => {
    await bed.db.query("UPDATE commerce.products SET price = 21.50 WHERE id = 1");
    const records = await readTopic(bed.broker.bootstrapServers, PRODUCTS_TOPIC, { count: 3 });
    const rows = records.map((r) => (r.value as { payload: { id: number; __op: string } }).payload);
    expect(rows.map((r) => [r.id, r.__op])).toEqual([
      [1, "r"],
      [2, "r"],
      [1, "u"],
    ]);
    // Connect stores and returns the placeholder; the password is in neither Connect's config nor the state.
    expect((await liveConfig(SOURCE_NAME))["database.password"]).toBe(`\${env:${PASSWORD_ENV}}`);
    expect(JSON.stringify(await stack.exportStack())).not.toContain(CDC_PASSWORD);
    // The second connector consumed the same records.
    await expect
      .poll(() => readFileSync(spec.sinkFile, "utf8").trimEnd().split("\n").length, { timeout: 60_000 })
      .toBe(3);
  });

  it("previews a change of one config key as that key alone, and applies it", async () => {
    spec = { ...spec, sourceOverrides: { "heartbeat.interval.ms": "5000" } };
    const events: EngineEvent[] = [];
    const preview = await stack.preview({ onEvent: (e) => events.push(e), diff: true });
    // Steps of independent resources run concurrently: compare them in name order.
    expect(connectorSteps(events, "resourcePreEvent").sort()).toEqual([
      ["sink", "same"],
      ["source", "update"],
    ]);
    expect(changedConfigKeys(stepOf(events, "resourcePreEvent", "source"), "inputs")).toEqual({
      "heartbeat.interval.ms": ["10000", "5000"],
    });
    // What a pull request shows: the one key, in the resource and in the stack output that mirrors it.
    expect(changedLines(preview.stdout)).toEqual([
      "~ config: {",
      '~ heartbeat.interval.ms: "10000" => "5000"',
      "~ sourceConfig: {",
      '~ heartbeat.interval.ms: "10000" => "5000"',
    ]);

    const result = await stack.up();
    expect(result.summary.result).toBe("succeeded");
    expect((await liveConfig(SOURCE_NAME))["heartbeat.interval.ms"]).toBe("5000");
    expect(await states(SOURCE_NAME)).toEqual(["RUNNING", "RUNNING"]);
  });

  it("shows a config changed behind Pulumi's back as drift on refresh, and puts it back on up", async () => {
    const put = await connect(`/connectors/${SINK_NAME}/config`, {
      method: "PUT",
      body: JSON.stringify({ ...(await liveConfig(SINK_NAME)), "tasks.max": "2" }),
    });
    expect(put.status).toBe(200);
    const events: EngineEvent[] = [];
    await stack.refresh({ onEvent: (e) => events.push(e) });
    expect(connectorSteps(events, "resOutputsEvent").sort()).toEqual([
      ["sink", "update"],
      ["source", "same"],
    ]);
    expect(changedConfigKeys(stepOf(events, "resOutputsEvent", "sink"), "outputs")).toEqual({
      "tasks.max": ["1", "2"],
    });

    const previewEvents: EngineEvent[] = [];
    await stack.preview({ onEvent: (e) => previewEvents.push(e) });
    expect(changedConfigKeys(stepOf(previewEvents, "resourcePreEvent", "sink"), "inputs")).toEqual({
      "tasks.max": ["2", "1"],
    });
    await stack.up();
    expect((await liveConfig(SINK_NAME))["tasks.max"]).toBe("1");
  });

  it("rides out the rebalances of a second worker joining while updates run", async () => {
    const joining = bed.addWorker();
    let joined = false;
    void joining.then(() => (joined = true));
    // Update the source again and again until the new worker has joined, so updates overlap the rebalance.
    const results = [];
    for (let round = 1; !joined || results.length < 2; round += 1) {
      spec = { ...spec, sourceOverrides: { "heartbeat.interval.ms": String(5000 + round * 100) } };
      results.push(await stack.up());
    }
    const second = await joining;
    expect(results.map((r) => r.summary.result)).toEqual(results.map(() => "succeeded"));
    expect(readFileSync(bed.workers[0]!.logFile, "utf8")).toMatch(/Rebalance started/);
    expect((await liveConfig(SOURCE_NAME))["heartbeat.interval.ms"]).toBe(
      spec.sourceOverrides!["heartbeat.interval.ms"],
    );
    // Connect may move the connector after the last update returned; it runs again on one of the two workers.
    await expect.poll(() => states(SOURCE_NAME), { timeout: 60_000 }).toEqual(["RUNNING", "RUNNING"]);
    const { body } = await connect(`/connectors/${SOURCE_NAME}/status`);
    expect([bed.workers[0]!.workerId, second.workerId]).toContain(
      (body as { connector: { worker_id: string } }).connector.worker_id,
    );
  });

  it("fails `up` with the task's trace when a connector's task fails", async () => {
    spec = { ...spec, brokenSourcePublication: "cdc_missing_publication" };
    await expect(stack.up()).rejects.toThrow(
      /cdc-broken-source[^\n]*not RUNNING: task 0 FAILED on 127\.0\.0\.1:\d+: [^\n]*Publication autocreation is disabled/,
    );
    spec = { ...spec, brokenSourcePublication: undefined };
    const after = await stack.up();
    expect(after.summary.result).toBe("succeeded");
    // The failed create left nothing behind in Connect.
    expect((await connect(`/connectors/${BROKEN_NAME}`)).status).toBe(404);
  });

  it("destroys the connectors", async () => {
    const events: EngineEvent[] = [];
    const result = await stack.destroy({ onEvent: (e) => events.push(e) });
    expect(result.summary.result).toBe("succeeded");
    expect(connectorSteps(events, "resOutputsEvent").sort()).toEqual([
      ["sink", "delete"],
      ["source", "delete"],
    ]);
    expect((await connect("/connectors")).body).toEqual([]);
  });
});
