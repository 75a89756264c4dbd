// The connector health check: its status → metrics function on the shapes Kafka Connect answers, and
// the handler as the Lambda runs it (check.ts compiled to CommonJS, serialized by the Pulumi SDK,
// loaded back from the text) against a real Connect worker with a FAILED task, a PAUSED connector
// and a connector that does not exist, then against a REST API that does not answer.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createProgress,
  ensureKafkaEngines,
  startConnectWorker,
  startKafkaBroker,
  type ConnectWorker,
  type KafkaBroker,
} from "../../engines";
import { connectHealth, emfRecord } from "../../infra/connector-health/check";

const root = resolve(__dirname, "../..");

/** A loopback port nothing listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const running = (name: string, tasks: string[] = ["RUNNING"]) => ({
  status: {
    name,
    connector: { state: "RUNNING", worker_id: "10.42.0.7:8083" },
    tasks: tasks.map((state, id) => ({
      id,
      state,
      worker_id: "10.42.0.7:8083",
      ...(state === "FAILED"
        ? { trace: "org.apache.kafka.connect.errors.ConnectException: boom\n\tat Worker.run(Worker.java:1)" }
        : {}),
    })),
    type: "sink",
  },
});

describe("connectHealth", () => {
  const expected = ["cdc-postgres-source", "cdc-s3-sink"];
  it.each<
    [string, Record<string, unknown>, number, Record<string, number>, Record<string, number>, string[]]
  >([
    [
      "both running",
      { "cdc-postgres-source": running("cdc-postgres-source"), "cdc-s3-sink": running("cdc-s3-sink") },
      0,
      { RUNNING: 2 },
      { RUNNING: 2 },
      [],
    ],
    [
      "a failed sink task",
      {
        "cdc-postgres-source": running("cdc-postgres-source"),
        "cdc-s3-sink": running("cdc-s3-sink", ["RUNNING", "FAILED"]),
      },
      1,
      { RUNNING: 2 },
      { RUNNING: 2, FAILED: 1 },
      ["cdc-s3-sink task 1 is FAILED: org.apache.kafka.connect.errors.ConnectException: boom"],
    ],
    [
      "a failed connector without tasks, the sink missing",
      {
        "cdc-postgres-source": {
          status: {
            name: "cdc-postgres-source",
            connector: {
              state: "FAILED",
              worker_id: "10.42.0.7:8083",
              trace: "java.lang.IllegalStateException: x",
            },
            tasks: [],
            type: "source",
          },
        },
      },
      2,
      { FAILED: 1, MISSING: 1 },
      {},
      [
        "connector cdc-s3-sink is MISSING",
        "connector cdc-postgres-source is FAILED: java.lang.IllegalStateException: x",
      ],
    ],
    [
      "a rebalance: unassigned and restarting tasks",
      {
        "cdc-postgres-source": running("cdc-postgres-source", ["UNASSIGNED"]),
        "cdc-s3-sink": running("cdc-s3-sink", ["RESTARTING"]),
      },
      2,
      { RUNNING: 2 },
      { UNASSIGNED: 1, RESTARTING: 1 },
      ["cdc-postgres-source task 0 is UNASSIGNED", "cdc-s3-sink task 0 is RESTARTING"],
    ],
    [
      "nothing deployed",
      {},
      2,
      { MISSING: 2 },
      {},
      ["connector cdc-postgres-source is MISSING", "connector cdc-s3-sink is MISSING"],
    ],
  ])("%s: %i not running", (_case, body, notRunning, connectors, tasks, problems) => {
    const zero = { RUNNING: 0, PAUSED: 0, STOPPED: 0, UNASSIGNED: 0, RESTARTING: 0, FAILED: 0 };
    expect(connectHealth(body, expected)).toEqual({
      connectors: { ...zero, MISSING: 0, ...connectors },
      tasks: { ...zero, ...tasks },
      notRunning,
      problems,
    });
  });

  it.each([[[]], ["text"], [{ x: { config: {} } }]])(
    "refuses a body that is not an expanded status map: %j",
    (body) => {
      expect(() => connectHealth(body, expected)).toThrow(/expand=status/);
    },
  );

  it("writes every count as a metric of one embedded-metric-format document", () => {
    const health = connectHealth({ "cdc-s3-sink": running("cdc-s3-sink", ["FAILED"]) }, ["cdc-s3-sink"]);
    const doc = emfRecord(health, "CdcPipeline/Connect", "dev", 1765000000000);
    const names = [
      "NotRunning",
      ...["Running", "Paused", "Stopped", "Unassigned", "Restarting", "Failed", "Missing"].map(
        (s) => `Connectors${s}`,
      ),
      ...["Running", "Paused", "Stopped", "Unassigned", "Restarting", "Failed"].map((s) => `Tasks${s}`),
    ];
    expect(doc._aws).toEqual({
      Timestamp: 1765000000000,
      CloudWatchMetrics: [
        {
          Namespace: "CdcPipeline/Connect",
          Dimensions: [["Stack"]],
          Metrics: names.map((Name) => ({ Name, Unit: "Count" })),
        },
      ],
    });
    expect([doc.Stack, doc.NotRunning, doc.ConnectorsRunning, doc.TasksFailed, doc.TasksRunning]).toEqual([
      "dev",
      1,
      1,
      1,
      0,
    ]);
  });
});

// Runs in a child Node: the handler serialized as the ConnectorHealth component serializes it.
const DRIVER = `
const Module = require("node:module");
const pulumi = require("@pulumi/pulumi");
const { handler } = require("./check.js");
(async () => {
  const { text, exportName } = await pulumi.runtime.serializeFunction(handler, { isFactoryFunction: false });
  const loaded = new Module("index");
  loaded._compile(text, "index.js");
  await loaded.exports[exportName]({}, {});
})().catch((err) => {
  process.stderr.write(String(err && err.message));
  process.exit(1);
});
`;

describe("the serialized health check against a real Connect worker", () => {
  let dir: string;
  let broker: KafkaBroker;
  let worker: ConnectWorker;

  const rest = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${worker.url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status >= 300)
      throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  };

  /** Runs the Lambda's code with `env`; its stdout line parsed, its exit code, its stderr. */
  const invoke = async (env: Record<string, string>) => {
    const result = await promisify(execFile)(process.execPath, [join(dir, "driver.js")], {
      cwd: root,
      env: { ...process.env, NODE_PATH: join(root, "node_modules"), ...env },
    }).then(
      ({ stdout, stderr }) => ({ stdout, stderr, code: 0 }),
      (error: { stdout: string; stderr: string; code: number }) => error,
    );
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    return {
      emf: JSON.parse(lines[0] as string) as Record<string, unknown>,
      code: result.code,
      stderr: result.stderr,
    };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cdc-connector-health-"));
    const { outputText } = ts.transpileModule(
      readFileSync(join(root, "infra/connector-health/check.ts"), "utf8"),
      {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      },
    );
    writeFileSync(join(dir, "check.js"), outputText);
    writeFileSync(join(dir, "driver.js"), DRIVER);
    const engines = await ensureKafkaEngines(createProgress("connector-health-test"));
    broker = await startKafkaBroker(engines, join(dir, "kafka"));
    worker = await startConnectWorker(engines, join(dir, "connect"), {
      bootstrapServers: broker.bootstrapServers,
      groupId: "health-check",
    });
    const sink = (name: string, file: string) =>
      rest("PUT", `/connectors/${name}/config`, {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        topics: "health-check-topic",
        file,
      });
    await sink("healthy-sink", join(dir, "healthy.txt"));
    // The task cannot open its file: Connect marks it FAILED with the exception as its trace.
    await sink("broken-sink", join(dir, "no-such-directory", "out.txt"));
    await sink("paused-sink", join(dir, "paused.txt"));
    // A connector paused before it has made its task configs never gets a task (Connect does not
    // start a connector whose target state is PAUSED), so the pause waits for the running task.
    await settle([
      "healthy-sink:RUNNING:RUNNING",
      "broken-sink:RUNNING:FAILED",
      "paused-sink:RUNNING:RUNNING",
    ]);
    await rest("PUT", "/connectors/paused-sink/pause");
    await settle(["paused-sink:PAUSED:PAUSED"]);
  }, 400_000);

  /** Polls the worker until every `connector:state:taskStates` line in `expected` is reported. */
  const settle = async (expected: string[]) => {
    for (const deadline = Date.now() + 90_000; ;) {
      const body = (await (await fetch(`${worker.url}/connectors?expand=status`)).json()) as Record<
        string,
        { status: { connector: { state: string }; tasks: { state: string }[] } }
      >;
      const states = Object.entries(body).map(
        ([name, { status }]) =>
          `${name}:${status.connector.state}:${status.tasks.map((t) => t.state).join(",")}`,
      );
      if (expected.every((s) => states.includes(s))) return;
      if (Date.now() > deadline) throw new Error(`connectors did not settle: ${states.join(" ")}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  afterAll(async () => {
    await worker?.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("counts the failed task, the paused connector and the missing one, and alarms on them", async () => {
    const { emf, code } = await invoke({
      CONNECT_URL: `${worker.url}/`,
      EXPECTED_CONNECTORS: "healthy-sink,broken-sink,paused-sink,absent-source",
      METRIC_NAMESPACE: "CdcPipeline/Connect",
      STACK: "test",
    });
    expect(code).toBe(0);
    const { _aws: _metadata, problems, ...values } = emf;
    expect(values).toEqual({
      Stack: "test",
      NotRunning: 4,
      ConnectorsRunning: 2,
      ConnectorsPaused: 1,
      ConnectorsStopped: 0,
      ConnectorsUnassigned: 0,
      ConnectorsRestarting: 0,
      ConnectorsFailed: 0,
      ConnectorsMissing: 1,
      TasksRunning: 1,
      TasksPaused: 1,
      TasksStopped: 0,
      TasksUnassigned: 0,
      TasksRestarting: 0,
      TasksFailed: 1,
    });
    expect(problems).toEqual([
      "connector absent-source is MISSING",
      expect.stringMatching(
        /^broken-sink task 0 is FAILED: org\.apache\.kafka\.connect\.errors\.ConnectException: Couldn't find or create file/,
      ),
      "connector paused-sink is PAUSED",
      "paused-sink task 0 is PAUSED",
    ]);
  });

  it("counts every expected connector as not running and fails when the REST API does not answer", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { emf, code, stderr } = await invoke({
      CONNECT_URL: url,
      EXPECTED_CONNECTORS: "cdc-postgres-source,cdc-s3-sink",
      METRIC_NAMESPACE: "CdcPipeline/Connect",
      STACK: "test",
    });
    expect([code, emf.NotRunning, emf.ConnectorsMissing]).toEqual([1, 2, 2]);
    expect((emf.problems as string[])[0]).toMatch(
      new RegExp(`^the REST API at ${url} could not be read: TypeError: fetch failed`),
    );
    expect(stderr).toBe("fetch failed");
  });
});
