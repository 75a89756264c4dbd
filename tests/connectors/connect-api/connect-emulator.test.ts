// The emulator itself follows data-contract.md §5 and answers as Kafka Connect 4.3.1 does (checked against a real
// worker by emulator-vs-connect.test.ts), so the provider tests exercise real behaviour.
import { describe, expect, it } from "vitest";
import { ConnectEmulator } from "./connect-emulator";
import { SOURCE_CONFIG, useConnectEmulator } from "./fixtures";

const emulator = useConnectEmulator();

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${emulator().url}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

describe("Connect REST emulator", () => {
  it("PUT config answers 201 then 200, GET returns placeholders verbatim, DELETE 204 then 404", async () => {
    expect((await call("PUT", "/connectors/src/config", SOURCE_CONFIG)).status).toBe(201);
    expect((await call("PUT", "/connectors/src/config", SOURCE_CONFIG)).status).toBe(200);
    expect(await call("GET", "/connectors/src/config")).toEqual({
      status: 200,
      body: { ...SOURCE_CONFIG, name: "src" },
    });
    expect(await call("GET", "/connectors")).toEqual({ status: 200, body: ["src"] });
    expect((await call("DELETE", "/connectors/src")).status).toBe(204);
    expect(await call("GET", "/connectors/src")).toEqual({
      status: 404,
      body: { error_code: 404, message: "Connector src not found" },
    });
  });

  const VALIDATE = "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate";
  // Debezium lists one key with no value at all (value: null).
  type Validation = {
    error_count: number;
    configs: Array<{ value: { name: string; value: string | null; errors: string[] } | null }>;
  };
  const valuesOf = (body: unknown) => (body as Validation).configs.flatMap((c) => (c.value ? [c.value] : []));
  const errorsOf = (body: unknown) =>
    Object.fromEntries(
      valuesOf(body)
        .filter((value) => value.errors.length > 0)
        .map((value) => [value.name, value.errors]),
    );

  it("validate answers 200 with error_count and per-key errors: a missing required key, name included, and a bad enum value", async () => {
    const { "topic.prefix": _dropped, ...config } = SOURCE_CONFIG;
    const { status, body } = await call("PUT", VALIDATE, { ...config, "snapshot.mode": "sometimes" });
    expect(status).toBe(200);
    expect((body as Validation).error_count).toBe(3);
    // Connect's own key with Kafka's message; Debezium's keys with Debezium's.
    expect(errorsOf(body)).toEqual({
      name: ['Missing required configuration "name" which has no default value.'],
      "topic.prefix": ["The 'topic.prefix' value is invalid: A value is required"],
      "snapshot.mode": [
        "The 'snapshot.mode' value is invalid: Value must be one of " +
          "always, initial_only, configuration_based, when_needed, initial, custom, no_data",
      ],
    });
    // Nothing applied.
    expect(await call("GET", "/connectors")).toEqual({ status: 200, body: [] });
    const valid = await call("PUT", VALIDATE, { ...SOURCE_CONFIG, name: "src" });
    expect(valid).toMatchObject({ status: 200, body: { error_count: 0 } });
  });

  it("PUT config rejects what validate rejects with a 400 listing the messages; Debezium's errors make Connect fail with a 500", async () => {
    const fileSource = {
      "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
      file: "in.txt",
    };
    expect(
      await call("PUT", "/connectors/src/config", { ...fileSource, "errors.tolerance": "some" }),
    ).toEqual({
      status: 400,
      body: {
        error_code: 400,
        message:
          "Connector configuration is invalid and contains the following 2 error(s):\n" +
          "Invalid value some for configuration errors.tolerance: String must be one of: none, all\n" +
          'Missing required configuration "topic" which has no default value.\n' +
          "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
      },
    });
    // Connect reads the errors of every key validate lists, and Debezium lists one without a value.
    expect(
      await call("PUT", "/connectors/src/config", { ...SOURCE_CONFIG, "plugin.name": "wal2json" }),
    ).toEqual({
      status: 500,
      body: {
        error_code: 500,
        message:
          'Cannot invoke "org.apache.kafka.connect.runtime.rest.entities.ConfigValueInfo.errors()" because the ' +
          'return value of "org.apache.kafka.connect.runtime.rest.entities.ConfigInfo.configValue()" is null',
      },
    });
    expect(await call("GET", "/connectors")).toEqual({ status: 200, body: [] });
  });

  it("validate answers 500 for a plugin no worker has and without connector.class, 400 with another one", async () => {
    const mysql = "io.debezium.connector.mysql.MySqlConnector";
    const unknown = await call("PUT", `/connector-plugins/${mysql}/config/validate`, {
      ...SOURCE_CONFIG,
      "connector.class": mysql,
    });
    expect(unknown.status).toBe(500);
    expect((unknown.body as { message: string }).message).toMatch(
      new RegExp(
        "^org\\.apache\\.kafka\\.connect\\.runtime\\.rest\\.errors\\.BadRequestException: Failed to find any " +
          `class that implements Connector and which name matches ${mysql}, available connectors are: PluginDesc\\{`,
      ),
    );
    // GET /connector-plugins lists what the workers load (what the provider's error points at): sinks first.
    expect((await call("GET", "/connector-plugins")).body).toEqual([
      { class: "io.confluent.connect.s3.S3SinkConnector", type: "sink", version: "10.5.13" },
      { class: "org.apache.kafka.connect.file.FileStreamSinkConnector", type: "sink", version: "4.3.1" },
      { class: "io.debezium.connector.postgresql.PostgresConnector", type: "source", version: "3.6.1.Final" },
      { class: "org.apache.kafka.connect.file.FileStreamSourceConnector", type: "source", version: "4.3.1" },
    ]);
    expect(await call("PUT", VALIDATE, { name: "src" })).toEqual({
      status: 500,
      body: {
        error_code: 500,
        message:
          "org.apache.kafka.connect.runtime.rest.errors.BadRequestException: Connector config {name=src} contains no connector type",
      },
    });
    expect(
      await call("PUT", VALIDATE, {
        ...SOURCE_CONFIG,
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
      }),
    ).toEqual({
      status: 400,
      body: {
        error_code: 400,
        message:
          "Included connector type io.confluent.connect.s3.S3SinkConnector does not match request type " +
          "io.debezium.connector.postgresql.PostgresConnector",
      },
    });
  });

  it("validate sees placeholders resolved by the workers' config providers; GET returns them verbatim", async () => {
    const FILE_PLACEHOLDER = "${file:/etc/connect/paths.properties:input}";
    const resolving = await ConnectEmulator.start({
      secrets: { [SOURCE_CONFIG["database.password"]!]: "s3cr3t", [FILE_PLACEHOLDER]: "/data/in.txt" },
    });
    try {
      const validate = async (connectorClass: string, config: Record<string, string>) => {
        const res = await fetch(`${resolving.url}/connector-plugins/${connectorClass}/config/validate`, {
          method: "PUT",
          body: JSON.stringify({ ...config, name: "src" }),
        });
        return Object.fromEntries(valuesOf(await res.json()).map((value) => [value.name, value.value]));
      };
      // Kafka-validated keys show the value as validated, resolved; Debezium shows none of its keys' values.
      const fileSource = "org.apache.kafka.connect.file.FileStreamSourceConnector";
      expect(
        await validate(fileSource, { "connector.class": fileSource, topic: "t", file: FILE_PLACEHOLDER }),
      ).toMatchObject({ file: "/data/in.txt" });
      expect(await validate(SOURCE_CONFIG["connector.class"]!, SOURCE_CONFIG)).toMatchObject({
        "database.password": null,
        "connector.class": SOURCE_CONFIG["connector.class"],
      });
      await fetch(`${resolving.url}/connectors/src/config`, {
        method: "PUT",
        body: JSON.stringify(SOURCE_CONFIG),
      });
      expect(resolving.configOf("src")?.["database.password"]).toBe(SOURCE_CONFIG["database.password"]);
    } finally {
      await resolving.stop();
    }
  });

  it("pause, resume and stop change the reported states; stopped connectors have no tasks", async () => {
    const sink = { "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", topics: "t" };
    await call("PUT", "/connectors/src/config", { ...sink, "tasks.max": "2" });
    expect((await call("PUT", "/connectors/src/pause")).status).toBe(202);
    const paused = (await call("GET", "/connectors/src/status")).body as {
      connector: { state: string };
      tasks: Array<{ state: string }>;
    };
    expect([paused.connector.state, ...paused.tasks.map((t) => t.state)]).toEqual([
      "PAUSED",
      "PAUSED",
      "PAUSED",
    ]);
    expect((await call("PUT", "/connectors/src/resume")).status).toBe(202);
    const resumed = (await call("GET", "/connectors/src/status")).body as { connector: { state: string } };
    expect(resumed.connector.state).toBe("RUNNING");
    expect((await call("PUT", "/connectors/src/stop")).status).toBe(204);
    expect((await call("GET", "/connectors/src/status")).body).toMatchObject({
      connector: { state: "STOPPED" },
      tasks: [],
    });
  });

  it("changes offsets only when STOPPED, and keeps them across a delete", async () => {
    await call("PUT", "/connectors/src/config", SOURCE_CONFIG);
    emulator().setOffsets("src", [{ partition: { server: "cdc" }, offset: { lsn: 7 } }]);
    const refused = await call("DELETE", "/connectors/src/offsets");
    expect(refused.status).toBe(400);
    expect((refused.body as { message: string }).message).toMatch(/^Connectors must be in the STOPPED state/);
    await call("DELETE", "/connectors/src");
    await call("PUT", "/connectors/src/config", SOURCE_CONFIG);
    expect(await call("GET", "/connectors/src/offsets")).toEqual({
      status: 200,
      body: { offsets: [{ partition: { server: "cdc" }, offset: { lsn: 7 } }] },
    });
    await call("PUT", "/connectors/src/stop");
    expect((await call("DELETE", "/connectors/src/offsets")).status).toBe(200);
    expect((await call("GET", "/connectors/src/offsets")).body).toEqual({ offsets: [] });
  });

  it("answers 409 during a simulated rebalance, then recovers", async () => {
    emulator().rebalance(1);
    expect((await call("GET", "/connectors")).status).toBe(409);
    expect((await call("GET", "/connectors")).status).toBe(200);
  });

  it("reports tasks starting, then a FAILED task with its trace", async () => {
    let now = 0;
    const timed = await ConnectEmulator.start({ now: () => now });
    try {
      const status = async () =>
        (await fetch(`${timed.url}/connectors/src/status`)).json() as Promise<unknown>;
      timed.behave("src", { startupMs: 100, failTask: { id: 0, trace: "boom" } });
      await fetch(`${timed.url}/connectors/src/config`, {
        method: "PUT",
        body: JSON.stringify(SOURCE_CONFIG),
      });
      expect(await status()).toMatchObject({ connector: { state: "UNASSIGNED" }, tasks: [] });
      now = 50;
      expect(await status()).toMatchObject({
        connector: { state: "RUNNING" },
        tasks: [{ state: "UNASSIGNED" }],
      });
      now = 100;
      expect(await status()).toMatchObject({ tasks: [{ state: "FAILED", trace: "boom" }] });
    } finally {
      await timed.stop();
    }
  });

  it("restarts the tasks asynchronously after a config update: old tasks and task configs until then", async () => {
    let now = 0;
    const timed = await ConnectEmulator.start({ now: () => now });
    try {
      const get = async (path: string) =>
        (await fetch(`${timed.url}/connectors/src${path}`)).json() as Promise<unknown>;
      const put = (config: Record<string, string>) =>
        fetch(`${timed.url}/connectors/src/config`, { method: "PUT", body: JSON.stringify(config) });
      await put(SOURCE_CONFIG);
      timed.behave("src", { restartDelayMs: 100, failTask: { id: 0, trace: "bad new config" } });
      const updated = { ...SOURCE_CONFIG, "slot.name": "other" };
      expect((await put(updated)).status).toBe(200);
      // The new config is stored at once, but the old task still runs the old one.
      expect(await get("/config")).toEqual({ ...updated, name: "src" });
      expect(await get("/status")).toMatchObject({
        connector: { state: "RUNNING" },
        tasks: [{ state: "RUNNING" }],
      });
      // Each task config is the connector's config and the task class Connect adds.
      const TASK_CLASS = { "task.class": "io.debezium.connector.postgresql.PostgresConnectorTask" };
      expect(await get("/tasks")).toEqual([
        { id: { connector: "src", task: 0 }, config: { ...SOURCE_CONFIG, name: "src", ...TASK_CLASS } },
      ]);
      now = 99;
      expect(await get("/status")).toMatchObject({ tasks: [{ state: "RUNNING" }] });
      now = 100;
      expect(await get("/tasks")).toEqual([
        { id: { connector: "src", task: 0 }, config: { ...updated, name: "src", ...TASK_CLASS } },
      ]);
      expect(await get("/status")).toMatchObject({ tasks: [{ state: "FAILED", trace: "bad new config" }] });
    } finally {
      await timed.stop();
    }
  });

  it("rejects a config whose name differs from the URL's", async () => {
    const { status, body } = await call("PUT", "/connectors/src/config", { ...SOURCE_CONFIG, name: "other" });
    expect(status).toBe(400);
    expect(body).toEqual({
      error_code: 400,
      message: "Connector name configuration (other) doesn't match connector name in the URL (src)",
    });
  });
});
