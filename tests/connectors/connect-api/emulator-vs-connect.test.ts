// The Connect emulator the provider tests run against, held to a real Kafka Connect 4.3.1 worker (one KRaft
// broker, one distributed worker with the FileStream connectors and Debezium's Postgres source): each case
// sends the same requests to both and expects the same status codes and bodies, where only worker ids,
// traces and plugin locations are replaced by their form (connect-comparison.ts). No database is needed:
// the lifecycle runs FileStream connectors on files in the temp dir, and Debezium is only validated.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startConnectWorker,
  startKafkaBroker,
  type ConnectWorker,
  type KafkaBroker,
} from "../../../engines/kafka-cluster";
import { createProgress } from "../../../engines/progress";
import { ensureKafkaEngines } from "../../../engines/provision";
import { Recorder, RestTarget, statusIs, type Answer } from "./connect-comparison";
import { ConnectEmulator } from "./connect-emulator";
import { DEFAULT_PLUGINS } from "./emulator-plugins";

const FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector";
const FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector";
const POSTGRES = "io.debezium.connector.postgresql.PostgresConnector";
const MYSQL = "io.debezium.connector.mysql.MySqlConnector";
// The plugins the real worker loads: all the emulator's but the S3 sink.
const { "io.confluent.connect.s3.S3SinkConnector": _notOnTheWorker, ...WORKER_PLUGINS } = DEFAULT_PLUGINS;

let dir: string;
let broker: KafkaBroker | undefined;
let worker: ConnectWorker | undefined;
let emulator: ConnectEmulator | undefined;
let connect: RestTarget;
let emulated: RestTarget;
/** `${file:…}` placeholders the worker's file config provider resolves, and the emulator's `secrets`. */
let placeholder: (key: "tolerance" | "path") => string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "emulator-vs-connect-"));
  const secretsFile = join(dir, "secrets.properties");
  writeFileSync(secretsFile, `tolerance=sometimes\npath=${join(dir, "resolved.txt")}\n`);
  placeholder = (key) => `\${file:${secretsFile}:${key}}`;
  const engines = await ensureKafkaEngines(createProgress("emulator-vs-connect"));
  broker = await startKafkaBroker(engines, join(dir, "kafka"));
  worker = await startConnectWorker(engines, join(dir, "connect"), {
    bootstrapServers: broker.bootstrapServers,
    groupId: "emulator-vs-connect",
  });
  emulator = await ConnectEmulator.start({
    plugins: WORKER_PLUGINS,
    secrets: { [placeholder("tolerance")]: "sometimes", [placeholder("path")]: join(dir, "resolved.txt") },
  });
  connect = new RestTarget("connect", worker.url, 90_000);
  emulated = new RestTarget("emulator", emulator.url, 2_000);
}, 300_000);

afterAll(async () => {
  await emulator?.stop();
  await worker?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `steps` on the real worker, then on the emulator; expects the same answers; returns the real ones. */
async function sameAnswers(steps: (r: Recorder) => Promise<unknown>): Promise<Record<string, Answer>> {
  const real = new Recorder(connect);
  await steps(real);
  const emulation = new Recorder(emulated);
  await steps(emulation);
  expect(emulation.answers).toEqual(real.answers);
  return real.answers;
}

// A real worker takes seconds per step on a busy machine.
describe("the Connect emulator answers as Kafka Connect 4.3.1", { timeout: 300_000 }, () => {
  it("PUT config creates (201, no task yet) then updates (200, the tasks known before); reads back alike", async () => {
    const name = "vs-source";
    // FileStreamSource generates one task whatever tasks.max says.
    const config = {
      "connector.class": FILE_SOURCE,
      file: join(dir, "absent.txt"),
      topic: "vs-a",
      "tasks.max": "2",
    };
    const path = `/connectors/${name}`;
    const answers = await sameAnswers(async (r) => {
      await r.call("create", "PUT", `${path}/config`, config);
      await r.until("status", `${path}/status`, "its task RUNNING", statusIs("RUNNING", 1));
      await r.call("config", "GET", `${path}/config`);
      await r.call("connector", "GET", path);
      await r.call("task configs", "GET", `${path}/tasks`);
      await r.call("update", "PUT", `${path}/config`, { ...config, topic: "vs-b" });
      await r.until("task configs updated", `${path}/tasks`, "the new topic", ({ body }) =>
        JSON.stringify(body).includes('"topic":"vs-b"'),
      );
      await r.until("status updated", `${path}/status`, "its task RUNNING", statusIs("RUNNING", 1));
      await r.call("delete", "DELETE", path);
      await r.until("status deleted", `${path}/status`, "404", ({ status }) => status === 404);
      await r.call("config deleted", "GET", `${path}/config`);
    });
    expect(answers["create"]).toEqual({
      status: 201,
      body: { name, config: { ...config, name }, tasks: [], type: "source" },
    });
    expect(answers["update"]).toEqual({
      status: 200,
      body: {
        name,
        config: { ...config, topic: "vs-b", name },
        tasks: [{ connector: name, task: 0 }],
        type: "source",
      },
    });
    const worker_id = "<host>:<port>";
    expect(answers["status"]?.body).toEqual({
      name,
      connector: { state: "RUNNING", worker_id, version: "4.3.1" },
      tasks: [{ id: 0, state: "RUNNING", worker_id, version: "4.3.1" }],
      type: "source",
    });
    expect(answers["task configs"]?.body).toEqual([
      {
        id: { connector: name, task: 0 },
        config: { ...config, name, "task.class": "org.apache.kafka.connect.file.FileStreamSourceTask" },
      },
    ]);
    expect(answers["status deleted"]?.body).toEqual({
      error_code: 404,
      message: `No status found for connector ${name}`,
    });
  });

  it("validate answers 200 with error_count and per-key errors; PUT config refuses the config: 400, or 500 for Debezium", async () => {
    const unknownKeyAndMissing = {
      "connector.class": FILE_SOURCE,
      file: join(dir, "in.txt"),
      "no.such.key": "1",
      "errors.tolerance": "sometimes",
    };
    const emptyValues = { "connector.class": FILE_SOURCE, name: "", topic: "" };
    const sinkWithoutTopics = { "connector.class": FILE_SINK, name: "vs-sink", file: join(dir, "out.txt") };
    // Debezium checks the database connection only once its fields are valid: these never are.
    const postgres = {
      "connector.class": POSTGRES,
      name: "vs-postgres",
      "database.hostname": "db.internal",
      "database.user": "cdc",
      "plugin.name": "wal2json",
      "snapshot.mode": "recovery",
      "decimal.handling.mode": "PRECISE",
      "topic.prefix": "",
    };
    const resolved = {
      "connector.class": FILE_SOURCE,
      name: "vs-resolved",
      topic: "vs",
      file: placeholder("path"),
      "errors.tolerance": placeholder("tolerance"),
    };
    const valid = {
      "connector.class": FILE_SOURCE,
      name: "vs-valid",
      topic: "vs",
      file: join(dir, "in.txt"),
    };
    const answers = await sameAnswers(async (r) => {
      await r.validate(
        "unknown key, missing name and topic, bad tolerance",
        FILE_SOURCE,
        unknownKeyAndMissing,
      );
      await r.validate("empty name and topic", FILE_SOURCE, emptyValues);
      await r.validate("sink without topics", FILE_SINK, sinkWithoutTopics);
      await r.validate("postgres", POSTGRES, postgres);
      await r.validate("placeholders", FILE_SOURCE, resolved);
      await r.validate("valid", FILE_SOURCE, valid);
      await r.call("PUT invalid source", "PUT", "/connectors/vs-invalid/config", unknownKeyAndMissing);
      await r.call("PUT invalid postgres", "PUT", "/connectors/vs-postgres/config", postgres);
      await r.call("nothing created", "GET", "/connectors/vs-postgres");
    });
    expect(answers["postgres"]).toEqual({
      status: 200,
      body: {
        name: POSTGRES,
        error_count: 5,
        errors: [
          [
            "topic.prefix",
            [
              "The 'topic.prefix' value is invalid: A value is required",
              "The 'topic.prefix' value is invalid:  has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)",
            ],
          ],
          ["database.dbname", ["The 'database.dbname' value is invalid: A value is required"]],
          ["plugin.name", ["The 'plugin.name' value is invalid: Value must be one of decoderbufs, pgoutput"]],
          [
            "snapshot.mode",
            [
              "The 'snapshot.mode' value is invalid: Value must be one of always, initial_only, configuration_based, when_needed, initial, custom, no_data",
            ],
          ],
        ],
        sent: expect.objectContaining({
          "database.hostname": { required: false, value: null, recommended_values: [] },
        }) as unknown,
      },
    });
    expect(answers["placeholders"]?.body).toMatchObject({
      errors: [
        [
          "errors.tolerance",
          ["Invalid value sometimes for configuration errors.tolerance: String must be one of: none, all"],
        ],
      ],
      sent: { file: { value: join(dir, "resolved.txt") } },
    });
    expect(answers["valid"]?.body).toMatchObject({ error_count: 0 });
    // Debezium lists a key without a value, and Connect fails building its error message.
    expect(answers["PUT invalid postgres"]).toEqual({
      status: 500,
      body: {
        error_code: 500,
        message:
          'Cannot invoke "org.apache.kafka.connect.runtime.rest.entities.ConfigValueInfo.errors()" because the ' +
          'return value of "org.apache.kafka.connect.runtime.rest.entities.ConfigInfo.configValue()" is null',
      },
    });
    expect(answers["PUT invalid source"]).toEqual({
      status: 400,
      body: {
        error_code: 400,
        message:
          "Connector configuration is invalid and contains the following 2 error(s):\n" +
          "Invalid value sometimes for configuration errors.tolerance: String must be one of: none, all\n" +
          'Missing required configuration "topic" which has no default value.\n' +
          "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
      },
    });
  });

  it("a plugin class no worker has: validate 500, PUT config 400; no or another connector.class", async () => {
    const answers = await sameAnswers(async (r) => {
      await r.call("plugins", "GET", "/connector-plugins");
      await r.validate("validate unknown", MYSQL, { "connector.class": MYSQL, name: "vs-mysql" });
      await r.call("PUT unknown", "PUT", "/connectors/vs-mysql/config", { "connector.class": MYSQL });
      await r.call("not created", "GET", "/connectors/vs-mysql");
      await r.validate("validate another class", FILE_SOURCE, { "connector.class": FILE_SINK, name: "vs" });
      await r.validate("validate no class", FILE_SOURCE, { name: "vs" });
      await r.call("PUT no class", "PUT", "/connectors/vs-classless/config", {});
    });
    expect(answers["validate unknown"]?.status).toBe(500);
    expect((answers["validate unknown"]?.body as { message: string }).message).toMatch(
      /^org\.apache\.kafka\.connect\.runtime\.rest\.errors\.BadRequestException: Failed to find any class that implements Connector and which name matches io\.debezium\.connector\.mysql\.MySqlConnector, available connectors are: PluginDesc\{klass=class io\.debezium\.connector\.postgresql\.PostgresConnector, /,
    );
    expect(answers["PUT unknown"]?.status).toBe(400);
    expect(answers["PUT no class"]?.body).toEqual({
      error_code: 400,
      message: "Connector config {name=vs-classless} contains no connector type",
    });
  });

  it("a connector no worker has: 404 from every endpoint, each with its own message", async () => {
    const path = "/connectors/vs-nothing";
    const answers = await sameAnswers(async (r) => {
      for (const [method, suffix] of [
        ["GET", ""],
        ["GET", "/config"],
        ["GET", "/status"],
        ["GET", "/tasks"],
        ["DELETE", ""],
        ["PUT", "/pause"],
        ["PUT", "/resume"],
        ["PUT", "/stop"],
        ["POST", "/restart?includeTasks=true&onlyFailed=true"],
        ["GET", "/offsets"],
        ["DELETE", "/offsets"],
      ] as const) {
        await r.call(`${method} ${suffix}`, method, `${path}${suffix}`);
      }
    });
    expect(Object.values(answers).map((answer) => answer.status)).toEqual(Array(11).fill(404));
  });

  it("restart with includeTasks and onlyFailed restarts the FAILED task (202 with the plan); without them 204", async () => {
    const name = "vs-failing-sink";
    const path = `/connectors/${name}`;
    // The sink's file is in a folder that does not exist: its task fails at start, again after each restart.
    const config = {
      "connector.class": FILE_SINK,
      file: join(dir, "no-such-dir", "out.txt"),
      topics: "vs-sink",
    };
    emulator!.behave(name, {
      failTask: { id: 0, trace: "ConnectException: Couldn't find or create file" },
    });
    const failed = statusIs("RUNNING", 1, "FAILED");
    const answers = await sameAnswers(async (r) => {
      await r.call("create", "PUT", `${path}/config`, config);
      await r.until("failed", `${path}/status`, "its task FAILED", failed);
      // The connector did not fail and its tasks are not asked for: nothing restarts.
      await r.call("restart failed connector", "POST", `${path}/restart?onlyFailed=true`);
      await r.call("restart failed tasks", "POST", `${path}/restart?includeTasks=true&onlyFailed=true`);
      // Until the restart lands the status may still show the first failure: FAILED either way.
      await r.until("failed again", `${path}/status`, "its task FAILED", failed);
      // Last: no read follows, whose answer would depend on when the connector's restart lands.
      await r.call("restart connector", "POST", `${path}/restart`);
      await r.call("delete", "DELETE", path);
    });
    expect(answers["restart failed tasks"]).toEqual({
      status: 202,
      body: {
        name,
        connector: { state: "RUNNING", worker_id: "<host>:<port>", version: "4.3.1" },
        tasks: [
          { id: 0, state: "RESTARTING", worker_id: "<host>:<port>", version: "4.3.1", trace: "<trace>" },
        ],
        type: "sink",
      },
    });
    expect(answers["restart failed connector"]).toMatchObject({
      status: 202,
      body: { connector: { state: "RUNNING" }, tasks: [{ state: "FAILED" }] },
    });
    expect(answers["restart connector"]).toEqual({ status: 204, body: undefined });
  });

  it("restart, pause (202), resume (202), stop (204); offsets read any time, reset only when STOPPED", async () => {
    const name = "vs-lifecycle";
    const path = `/connectors/${name}`;
    const config = { "connector.class": FILE_SOURCE, file: join(dir, "absent.txt"), topic: "vs-lifecycle" };
    const running = statusIs("RUNNING", 1);
    const answers = await sameAnswers(async (r) => {
      await r.call("create", "PUT", `${path}/config`, config);
      await r.until("running", `${path}/status`, "its task RUNNING", running);
      await r.call("restart only failed", "POST", `${path}/restart?includeTasks=true&onlyFailed=true`);
      await r.call("restart all", "POST", `${path}/restart?includeTasks=true`);
      await r.until("restarted", `${path}/status`, "its task RUNNING", running);
      await r.call("pause", "PUT", `${path}/pause`);
      await r.until("paused", `${path}/status`, "it and its task PAUSED", statusIs("PAUSED", 1));
      await r.call("paused task configs", "GET", `${path}/tasks`);
      await r.call("offsets", "GET", `${path}/offsets`);
      await r.call("reset offsets while paused", "DELETE", `${path}/offsets`);
      await r.call("resume", "PUT", `${path}/resume`);
      await r.until("resumed", `${path}/status`, "its task RUNNING", running);
      await r.call("stop", "PUT", `${path}/stop`);
      await r.until("stopped", `${path}/status`, "it STOPPED without tasks", statusIs("STOPPED", 0));
      await r.call("stopped task configs", "GET", `${path}/tasks`);
      await r.call("stopped connector", "GET", path);
      await r.call("stopped offsets", "GET", `${path}/offsets`);
      await r.call("reset offsets", "DELETE", `${path}/offsets`);
      await r.call("update while stopped", "PUT", `${path}/config`, { ...config, "batch.size": "100" });
      await r.until("still stopped", `${path}/status`, "it STOPPED", statusIs("STOPPED", 0));
      await r.call("resume stopped", "PUT", `${path}/resume`);
      await r.until("running again", `${path}/status`, "its task RUNNING", running);
      await r.call("delete", "DELETE", path);
    });
    expect(answers["restart only failed"]?.body).toMatchObject({
      connector: { state: "RUNNING" },
      tasks: [{ state: "RUNNING" }],
    });
    expect(answers["restart all"]?.body).toMatchObject({
      connector: { state: "RESTARTING" },
      tasks: [{ state: "RESTARTING" }],
    });
    expect([answers["pause"]?.status, answers["resume"]?.status, answers["stop"]?.status]).toEqual([
      202, 202, 204,
    ]);
    expect(answers["offsets"]).toEqual({ status: 200, body: { offsets: [] } });
    expect(answers["reset offsets while paused"]?.status).toBe(400);
    expect(answers["reset offsets"]).toEqual({
      status: 200,
      body: { message: "The offsets for this connector have been reset successfully" },
    });
    expect(answers["update while stopped"]).toMatchObject({ status: 200, body: { tasks: [] } });
  });
});
