// KafkaConnector under the real Pulumi engine, on a real Kafka Connect cluster with the real Debezium source:
// no mocks. The engine loads the serialized dynamic provider in its own process, as it does in production.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
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

const SOURCE_URN_SUFFIX = "pulumi-nodejs:dynamic:Resource::source";

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

async function connectorStatus(name: string) {
  return (await connect(`/connectors/${name}/status`)).body as {
    connector: { state: string; worker_id: string };
    tasks: { id: number; state: string; worker_id: string; trace?: string }[];
  };
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

function stepsFor(events: EngineEvent[], urnSuffix: string) {
  return events.flatMap((e) =>
    e.resourcePreEvent?.metadata.urn.endsWith(urnSuffix) ? [e.resourcePreEvent.metadata] : [],
  );
}

beforeAll(async () => {
  bed = await startTestBed();
  await bed.db.query(
    `INSERT INTO commerce.products (id, name, price, created_at, updated_at, in_stock)
     VALUES (1, 'lamp', 19.90, 1700000000000, now(), true), (2, 'desk', 240.00, 1700000000000, now(), false)`,
  );
  spec = {
    bootstrapServers: bed.broker.bootstrapServers,
    connectUrl: "http://unused.invalid",
    databasePort: bed.postgres.port,
    sinkFile: join(bed.root, "sink.txt"),
    phase: "topics",
  };
  stack = await bed.pulumi.stack({
    projectName: "cdc-real-engine",
    stackName: "test",
    program: connectorProgram(() => spec),
  });
}, 600_000);

afterAll(async () => bed?.close());

describe("KafkaConnector and KafkaTopics under the real engine", () => {
  it("creates the pipeline's topics on the broker before any worker runs", async () => {
    const result = await stack.up();
    expect(result.summary.result).toBe("succeeded");
    expect(await topicNames()).toEqual(
      [
        "__debezium-heartbeat.cdc",
        "cdc-connect-configs",
        "cdc-connect-offsets",
        "cdc-connect-status",
        "cdc.commerce.products",
        "cdc.commerce.users",
      ].sort(),
    );
  });

  it("creates both connectors and returns only when every task is RUNNING", async () => {
    const worker = await bed.addWorker();
    spec = { ...spec, connectUrl: worker.url, phase: "connectors" };
    const result = await stack.up();
    expect(result.summary.result).toBe("succeeded");
    expect(result.summary.resourceChanges).toMatchObject({ create: 2 });
    expect(result.outputs.sourceState?.value).toBe("RUNNING");
    expect(result.outputs.sourceTasks?.value).toEqual([
      { id: 0, state: "RUNNING", workerId: worker.workerId },
    ]);
    expect(result.outputs.sinkTasks?.value).toEqual([{ id: 0, state: "RUNNING", workerId: worker.workerId }]);
    const status = await connectorStatus(SOURCE_NAME);
    expect(status.connector.state).toBe("RUNNING");
    expect(status.tasks.map((t) => t.state)).toEqual(["RUNNING"]);
  });

  it("streams the snapshot and later changes into Kafka, through the password the worker resolved", async () => {
    await bed.db.query("UPDATE commerce.products SET price = 21.50 WHERE id = 1");
    const records = await readTopic(bed.broker.bootstrapServers, PRODUCTS_TOPIC, { count: 3 });
    const rows = records.map((r) => r.value as { payload: { id: number; __op: string; price: string } });
    expect(rows.map((r) => [r.payload.id, r.payload.__op])).toEqual([
      [1, "r"],
      [2, "r"],
      [1, "u"],
    ]);
    // The config Connect stores and returns holds the placeholder, never the password.
    const config = (await connect(`/connectors/${SOURCE_NAME}/config`)).body as Record<string, string>;
    expect(config["database.password"]).toBe(`\${env:${PASSWORD_ENV}}`);
    expect(JSON.stringify(await stack.exportStack())).not.toContain(CDC_PASSWORD);
    // The second connector consumed the same records.
    await expect
      .poll(() => readFileSync(spec.sinkFile, "utf8").trimEnd().split("\n").length, { timeout: 60_000 })
      .toBe(3);
  });

  it("previews a change of one config key as that key alone, and applies it", async () => {
    spec = { ...spec, sourceOverrides: { "heartbeat.interval.ms": "5000" } };
    const events: EngineEvent[] = [];
    const preview = await stack.preview({ onEvent: (e) => events.push(e) });
    expect(preview.changeSummary).toMatchObject({ update: 1 });
    const [step] = stepsFor(events, SOURCE_URN_SUFFIX);
    expect(step?.op).toBe("update");
    expect(step?.diffs).toEqual(["config"]);
    expect(step?.detailedDiff).toEqual({
      'config["heartbeat.interval.ms"]': { diffKind: "update", inputDiff: true },
    });

    const result = await stack.up();
    expect(result.summary.resourceChanges).toMatchObject({ update: 1 });
    const config = (await connect(`/connectors/${SOURCE_NAME}/config`)).body as Record<string, string>;
    expect(config["heartbeat.interval.ms"]).toBe("5000");
  });

  it("shows a config changed behind Pulumi's back as drift on refresh", async () => {
    const current = (await connect(`/connectors/${SINK_NAME}/config`)).body as Record<string, string>;
    const put = await connect(`/connectors/${SINK_NAME}/config`, {
      method: "PUT",
      body: JSON.stringify({ ...current, "tasks.max": "2" }),
    });
    expect(put.status).toBe(200);
    const events: EngineEvent[] = [];
    const refresh = await stack.refresh({ onEvent: (e) => events.push(e) });
    expect(refresh.summary.resourceChanges).toMatchObject({ update: 1 });
    const drifted = events.flatMap((e) =>
      e.resOutputsEvent?.metadata.op === "refresh" && e.resOutputsEvent.metadata.urn.endsWith("::sink")
        ? [e.resOutputsEvent.metadata]
        : [],
    );
    expect(drifted.map((m) => m.diffs)).toEqual([["config"]]);
    // The next preview puts the declared value back, key by key.
    const previewEvents: EngineEvent[] = [];
    await stack.preview({ onEvent: (e) => previewEvents.push(e) });
    const [step] = stepsFor(previewEvents, "::sink");
    expect(step?.detailedDiff).toEqual({ 'config["tasks.max"]': { diffKind: "update", inputDiff: true } });
    await stack.up();
    expect(
      ((await connect(`/connectors/${SINK_NAME}/config`)).body as Record<string, string>)["tasks.max"],
    ).toBe("1");
  });

  it("rides out the rebalance of a second worker joining during an update", async () => {
    spec = { ...spec, sourceOverrides: { "heartbeat.interval.ms": "7000" } };
    const joining = bed.addWorker();
    const result = await stack.up();
    const second = await joining;
    expect(result.summary.result).toBe("succeeded");
    expect(readFileSync(second.logFile, "utf8")).toContain("Joined group");
    const status = await connectorStatus(SOURCE_NAME);
    expect([status.connector.state, ...status.tasks.map((t) => t.state)]).toEqual(["RUNNING", "RUNNING"]);
    expect(
      ((await connect(`/connectors/${SOURCE_NAME}/config`)).body as Record<string, string>)[
        "heartbeat.interval.ms"
      ],
    ).toBe("7000");
  });

  it("fails `up` with the task's trace when a connector's task fails", async () => {
    const passwordFile = join(bed.root, "wrong-password.properties");
    writeFileSync(passwordFile, "password=not-the-password\n");
    spec = { ...spec, brokenSourcePasswordFile: passwordFile };
    await expect(stack.up()).rejects.toThrow(
      /cdc-broken-source[\s\S]*FAILED[\s\S]*password authentication failed/,
    );
    spec = { ...spec, brokenSourcePasswordFile: undefined };
    const after = await stack.up();
    expect(after.summary.result).toBe("succeeded");
    expect((await connect(`/connectors/${BROKEN_NAME}`)).status).toBe(404);
  });

  it("destroys the connectors and the topics", async () => {
    const result = await stack.destroy();
    expect(result.summary.result).toBe("succeeded");
    expect((await connect("/connectors")).body).toEqual([]);
    // The broker creates no topic on its own (as MSK is configured), so nothing comes back.
    expect(await topicNames()).toEqual([]);
  });
});
