// The dynamic provider's methods, called as the Pulumi engine calls them, against the Connect emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectorProvider as provider,
  type ConnectorInputs,
  type ConnectorOutputs,
} from "../../../connectors/connect-api";
import { ConnectEmulator } from "./connect-emulator";
import { SOURCE_CONFIG, SOURCE_VALIDATE, sourceInputs, useConnectEmulator } from "./fixtures";

const FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector";

const emulator = useConnectEmulator();

const inputs = (overrides: Partial<ConnectorInputs> = {}) => sourceInputs(emulator().url, overrides);

async function created(overrides: Partial<ConnectorInputs> = {}): Promise<ConnectorOutputs> {
  const result = await provider.create(inputs(overrides));
  emulator().resetCalls();
  return result.outs!;
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => new Error("expected a failure"),
    (err: unknown) => err as Error,
  );
  return error.message;
}

describe("create", () => {
  it("PUTs the config, waits until the connector and every task RUN, and records states and workers", async () => {
    // A sink runs tasks.max tasks (Debezium's Postgres source runs one, whatever tasks.max says).
    const sink = {
      "connector.class": FILE_SINK,
      file: "/tmp/out.txt",
      topics: "cdc.products",
      "tasks.max": "2",
    };
    const sinkInputs = inputs({ name: "cdc-sink", config: sink });
    emulator().behave("cdc-sink", { startupMs: 200 });
    const result = await provider.create(sinkInputs);
    expect(result.id).toBe("cdc-sink");
    expect(result.outs).toEqual({
      ...sinkInputs,
      connectorState: "RUNNING",
      taskStates: [
        { id: 0, state: "RUNNING", workerId: "10.0.1.10:8083" },
        { id: 1, state: "RUNNING", workerId: "10.0.2.20:8083" },
      ],
      workerIds: ["10.0.1.10:8083", "10.0.2.20:8083"],
    });
    const lines = emulator().callLines();
    expect(lines.slice(0, 3)).toEqual([
      "GET /connectors/cdc-sink/config",
      `PUT /connector-plugins/${FILE_SINK}/config/validate`,
      "PUT /connectors/cdc-sink/config",
    ]);
    // It polled through UNASSIGNED until RUNNING: several status reads, nothing else.
    expect(lines.length).toBeGreaterThan(4);
    expect(new Set(lines.slice(3))).toEqual(new Set(["GET /connectors/cdc-sink/status"]));
  });

  it("keeps the placeholder, never a resolved secret, in the applied config", async () => {
    const outs = await created();
    expect(outs.config["database.password"]).toBe(SOURCE_CONFIG["database.password"]);
    expect(emulator().configOf("cdc-source")?.["database.password"]).toBe(SOURCE_CONFIG["database.password"]);
  });

  it("adopts an existing connector whose config matches, without a PUT", async () => {
    emulator().behave("cdc-source", {});
    await provider.create(inputs());
    emulator().resetCalls();
    const result = await provider.create(inputs());
    expect(result.outs?.connectorState).toBe("RUNNING");
    expect(emulator().callLines()).toEqual([
      "GET /connectors/cdc-source/config",
      "GET /connectors/cdc-source/status",
    ]);
  });

  it("refuses to adopt an existing connector whose config differs, naming the keys", async () => {
    await provider.create(inputs());
    emulator().editConfig("cdc-source", {
      "tasks.max": "3",
      "snapshot.mode": "never",
      "plugin.name": undefined,
    });
    emulator().resetCalls();
    expect(await rejection(provider.create(inputs()))).toBe(
      `Kafka Connect connector "cdc-source": already exists on ${emulator().url} with a different config ` +
        "(plugin.name (missing), snapshot.mode (extra), tasks.max (different)); delete it, or make the declared config match to adopt it",
    );
    expect(emulator().callLines()).toEqual(["GET /connectors/cdc-source/config"]);
    expect(emulator().configOf("cdc-source")?.["tasks.max"]).toBe("3");
  });

  it("fails with the task's trace when a task goes FAILED", async () => {
    const trace =
      'org.apache.kafka.emulator().errors.ConnectException: replication slot "cdc" is active\n\tat io.debezium...';
    emulator().behave("cdc-source", { failTask: { id: 0, trace } });
    expect(await rejection(provider.create(inputs()))).toBe(
      `Kafka Connect connector "cdc-source": not RUNNING: task 0 FAILED on 10.0.1.10:8083: ${trace}`,
    );
    // Not in the state after a failed create, so not left in Connect either.
    expect(emulator().configOf("cdc-source")).toBeUndefined();
    expect(emulator().callLines().at(-1)).toBe("DELETE /connectors/cdc-source");
  });

  it("leaves an adopted connector in place when its create fails", async () => {
    emulator().behave("cdc-source", { failTask: { id: 0, trace: "boom" } });
    const put = await fetch(`${emulator().url}/connectors/cdc-source/config`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(SOURCE_CONFIG),
    });
    expect(put.status).toBe(201);
    expect(await rejection(provider.create(inputs()))).toContain("task 0 FAILED on 10.0.1.10:8083: boom");
    expect(emulator().configOf("cdc-source")).toEqual({ ...SOURCE_CONFIG, name: "cdc-source" });
  });

  it("fails after runningTimeoutSeconds when the tasks never start, with the last state seen", async () => {
    emulator().behave("cdc-source", { startupMs: 60_000 });
    const timeouts = { runningTimeoutSeconds: 0.15, requestTimeoutSeconds: 1, pollIntervalSeconds: 0.02 };
    const started = Date.now();
    expect(await rejection(provider.create(inputs({ timeouts })))).toBe(
      'Kafka Connect connector "cdc-source": not RUNNING after 0.15 s (timeouts.runningTimeoutSeconds): connector is UNASSIGNED',
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("fails on a config Connect's validate rejects, listing every failing key, and sends no PUT", async () => {
    const { "database.hostname": _dropped, ...config } = SOURCE_CONFIG;
    const invalid = { ...config, "snapshot.mode": "sometimes" };
    expect(await rejection(provider.create(inputs({ config: invalid })))).toBe(
      'Kafka Connect connector "cdc-source": Connect rejected the config: ' +
        `${SOURCE_VALIDATE} reported 2 error(s); nothing was applied (no PUT /connectors/cdc-source/config), ` +
        "the connector is left as it was:\n" +
        "  database.hostname: The 'database.hostname' value is invalid: A value is required\n" +
        "  snapshot.mode: The 'snapshot.mode' value is invalid: Value must be one of " +
        "always, initial_only, configuration_based, when_needed, initial, custom, no_data",
    );
    expect(emulator().calls).toEqual([
      { method: "GET", path: "/connectors/cdc-source/config", status: 404 },
      { method: "PUT", path: SOURCE_VALIDATE.slice(4), status: 200 },
    ]);
    expect(emulator().configOf("cdc-source")).toBeUndefined();
  });

  it("carries the failing keys and messages on the error", async () => {
    const error = await provider
      .create(inputs({ config: { ...SOURCE_CONFIG, "plugin.name": "wal2json" } }))
      .then(
        () => undefined,
        (err: unknown) => err as Error & { configErrors?: unknown },
      );
    expect(error?.name).toBe("ConnectorConfigError");
    expect(error?.configErrors).toEqual([
      {
        key: "plugin.name",
        messages: ["The 'plugin.name' value is invalid: Value must be one of decoderbufs, pgoutput"],
      },
    ]);
  });

  it("fails on a plugin class no worker has at its first 500 (no retry), naming the class and the missing plugin, and sends no PUT", async () => {
    const mysql = "io.debezium.connector.mysql.MySqlConnector";
    const plugin = (name: string, version: string, type: string) =>
      `PluginDesc{klass=class ${name}, name='${name}', version='${version}', encodedVersion=${version}, ` +
      `type=${type}, typeName='${type}', location='file:/usr/share/java/plugins/'}`;
    expect(
      await rejection(provider.create(inputs({ config: { ...SOURCE_CONFIG, "connector.class": mysql } }))),
    ).toBe(
      `Kafka Connect connector "cdc-source": connector.class "${mysql}" is not ` +
        `a connector plugin the Connect workers at ${emulator().url} have; the worker image probably lacks the plugin: ` +
        "install it on the workers' plugin.path (GET /connector-plugins lists what they load), or fix " +
        'config["connector.class"]. Nothing was applied. ' +
        `PUT /connector-plugins/${mysql}/config/validate failed with HTTP 500 after 1 attempt: ` +
        "org.apache.kafka.connect.runtime.rest.errors.BadRequestException: " +
        `Failed to find any class that implements Connector and which name matches ${mysql}, available connectors are: ` +
        [
          plugin("io.confluent.connect.s3.S3SinkConnector", "10.5.13", "sink"),
          plugin("io.debezium.connector.postgresql.PostgresConnector", "3.6.1.Final", "source"),
          plugin(FILE_SINK, "4.3.1", "sink"),
          plugin("org.apache.kafka.connect.file.FileStreamSourceConnector", "4.3.1", "source"),
        ].join(", "),
    );
    expect(emulator().calls).toEqual([
      { method: "GET", path: "/connectors/cdc-source/config", status: 404 },
      { method: "PUT", path: `/connector-plugins/${mysql}/config/validate`, status: 500 },
    ]);
  });

  it("does not retry a 400 from validate, and reads it as a plugin the workers lack", async () => {
    emulator().inject({ count: 1, pathSuffix: "/config/validate", status: 400, message: "Unknown plugin" });
    const message = await rejection(provider.create(inputs()));
    expect(message).toMatch(
      /^Kafka Connect connector "cdc-source": connector\.class "io\.debezium\.connector\.postgresql\.PostgresConnector" is not a connector plugin/,
    );
    expect(message).toMatch(/the worker image probably lacks the plugin/);
    expect(message.endsWith(`${SOURCE_VALIDATE} failed with HTTP 400 after 1 attempt: Unknown plugin`)).toBe(
      true,
    );
    expect(emulator().callLines()).toEqual(["GET /connectors/cdc-source/config", SOURCE_VALIDATE]);
  });

  it("retries validate on a rebalance: 409 twice, then validate 200 and one PUT", async () => {
    emulator().inject({
      count: 2,
      pathSuffix: "/config/validate",
      status: 409,
      message: "Request cannot be completed because a rebalance is expected",
    });
    await provider.create(inputs());
    expect(emulator().calls.slice(0, 5)).toEqual([
      { method: "GET", path: "/connectors/cdc-source/config", status: 404 },
      { method: "PUT", path: SOURCE_VALIDATE.slice(4), status: 409 },
      { method: "PUT", path: SOURCE_VALIDATE.slice(4), status: 409 },
      { method: "PUT", path: SOURCE_VALIDATE.slice(4), status: 200 },
      { method: "PUT", path: "/connectors/cdc-source/config", status: 201 },
    ]);
    expect(emulator().calls.filter((c) => c.path.endsWith("/validate"))).toHaveLength(3);
  });

  it("rides through a rebalance: 409 twice then success is 3 PUTs", async () => {
    emulator().inject({
      count: 2,
      method: "PUT",
      pathSuffix: "/connectors/cdc-source/config",
      status: 409,
      message: "Request cannot be completed because a rebalance is expected",
    });
    await provider.create(inputs());
    const puts = emulator().calls.filter(
      (c) => c.path === "/connectors/cdc-source/config" && c.method === "PUT",
    );
    expect(puts.map((c) => c.status)).toEqual([409, 409, 201]);
  });
});

describe("diff and update", () => {
  it("sees no change when nothing changed (no-op update)", async () => {
    const outs = await created();
    expect(await provider.diff("cdc-source", outs, inputs())).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
      detailedDiff: {},
    });
    expect(emulator().calls).toEqual([]);
  });

  it("updates in place: PUT then wait, and the new config is applied", async () => {
    const outs = await created();
    const news = inputs({ config: { ...SOURCE_CONFIG, "tasks.max": "2" } });
    const diff = await provider.diff("cdc-source", outs, news);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update("cdc-source", outs, news);
    expect(updated.outs?.config["tasks.max"]).toBe("2");
    // Debezium's Postgres source runs one task whatever tasks.max says.
    expect(updated.outs?.taskStates).toEqual([{ id: 0, state: "RUNNING", workerId: "10.0.1.10:8083" }]);
    expect(emulator().callLines().slice(0, 2)).toEqual([
      SOURCE_VALIDATE,
      "PUT /connectors/cdc-source/config",
    ]);
    expect(emulator().calls[1]?.status).toBe(200);
    expect(emulator().configOf("cdc-source")?.["tasks.max"]).toBe("2");
  });

  it("an update whose config validate rejects sends no PUT: the old config stays applied and the tasks keep running", async () => {
    const outs = await created();
    const news = inputs({
      config: { ...SOURCE_CONFIG, "tasks.max": "2", "snapshot.mode": "sometimes", "topic.prefix": "" },
    });
    expect(await rejection(provider.update("cdc-source", outs, news))).toBe(
      'Kafka Connect connector "cdc-source": Connect rejected the config: ' +
        `${SOURCE_VALIDATE} reported 3 error(s); nothing was applied (no PUT /connectors/cdc-source/config), ` +
        "the connector is left as it was:\n" +
        "  topic.prefix: The 'topic.prefix' value is invalid: A value is required; " +
        "The 'topic.prefix' value is invalid:  has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)\n" +
        "  snapshot.mode: The 'snapshot.mode' value is invalid: Value must be one of " +
        "always, initial_only, configuration_based, when_needed, initial, custom, no_data",
    );
    expect(emulator().callLines()).toEqual([SOURCE_VALIDATE]);
    expect(emulator().configOf("cdc-source")).toEqual({ ...SOURCE_CONFIG, name: "cdc-source" });
    const status = (await provider.read("cdc-source", outs)).props;
    expect(status?.config).toEqual(SOURCE_CONFIG);
    expect(status?.taskStates).toEqual([{ id: 0, state: "RUNNING", workerId: "10.0.1.10:8083" }]);
  });

  it("does not PUT when only provider settings changed", async () => {
    const outs = await created();
    const news = inputs({ timeouts: { runningTimeoutSeconds: 9, pollIntervalSeconds: 0.005 } });
    const updated = await provider.update("cdc-source", outs, news);
    expect(updated.outs?.timeouts).toEqual({ runningTimeoutSeconds: 9, pollIntervalSeconds: 0.005 });
    expect(emulator().callLines()).toEqual([
      "GET /connectors/cdc-source/config",
      "GET /connectors/cdc-source/status",
    ]);
  });

  it("creates the connector again when only settings changed but it was deleted by hand", async () => {
    const outs = await created();
    emulator().removeConnector("cdc-source");
    const updated = await provider.update("cdc-source", outs, inputs({ resetOffsetsOnDelete: true }));
    expect(updated.outs?.connectorState).toBe("RUNNING");
    expect(emulator().calls.slice(0, 3)).toEqual([
      { method: "GET", path: "/connectors/cdc-source/config", status: 404 },
      { method: "PUT", path: SOURCE_VALIDATE.slice(4), status: 200 },
      { method: "PUT", path: "/connectors/cdc-source/config", status: 201 },
    ]);
  });

  it("re-applies the config when the version input changes", async () => {
    const outs = await created();
    await provider.update("cdc-source", outs, inputs({ version: "2" }));
    expect(emulator().callLines().slice(0, 2)).toEqual([
      SOURCE_VALIDATE,
      "PUT /connectors/cdc-source/config",
    ]);
  });

  it("replaces, deleting first, on a rename and on a connector.class change", async () => {
    const outs = await created();
    expect(await provider.diff("cdc-source", outs, inputs({ name: "cdc-source-v2" }))).toMatchObject({
      replaces: ["name"],
      deleteBeforeReplace: true,
    });
    const mysql = { ...SOURCE_CONFIG, "connector.class": "io.debezium.connector.mysql.MySqlConnector" };
    expect(await provider.diff("cdc-source", outs, inputs({ config: mysql }))).toMatchObject({
      replaces: ["config"],
      deleteBeforeReplace: true,
    });
  });

  it("fails an update whose tasks fail, with the trace", async () => {
    const outs = await created();
    emulator().behave("cdc-source", { failTask: { id: 0, trace: "java.lang.OutOfMemoryError" } });
    const message = await rejection(
      provider.update("cdc-source", outs, inputs({ config: { ...SOURCE_CONFIG, "tasks.max": "2" } })),
    );
    expect(message).toBe(
      'Kafka Connect connector "cdc-source": not RUNNING: task 0 FAILED on 10.0.1.10:8083: java.lang.OutOfMemoryError',
    );
  });
  it("an update whose restarted task fails fails with that task's trace, though the old task still RAN", async () => {
    const outs = await created();
    const trace = 'io.debezium.DebeziumException: replication slot "cdc_slot_2" does not exist';
    emulator().behave("cdc-source", { restartDelayMs: 150, failTask: { id: 0, trace } });
    const message = await rejection(
      provider.update(
        "cdc-source",
        outs,
        inputs({ config: { ...SOURCE_CONFIG, "slot.name": "cdc_slot_2" } }),
      ),
    );
    expect(message).toBe(
      `Kafka Connect connector "cdc-source": not RUNNING: task 0 FAILED on 10.0.1.10:8083: ${trace}`,
    );
    // Validate, PUT, then task configs and status until the restart; the last poll saw the new task configs.
    const lines = emulator().callLines();
    expect(lines.slice(0, 2)).toEqual([SOURCE_VALIDATE, "PUT /connectors/cdc-source/config"]);
    expect(lines.length % 2).toBe(0);
    expect(lines.length).toBeGreaterThan(4);
    for (let i = 2; i < lines.length; i += 2) {
      expect(lines.slice(i, i + 2)).toEqual([
        "GET /connectors/cdc-source/tasks",
        "GET /connectors/cdc-source/status",
      ]);
    }
  });

  it("an update returns only after the tasks restarted with the new config", async () => {
    const outs = await created();
    emulator().behave("cdc-source", { restartDelayMs: 150 });
    const started = Date.now();
    const updated = await provider.update(
      "cdc-source",
      outs,
      inputs({ config: { ...SOURCE_CONFIG, "tasks.max": "2" } }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(updated.outs?.taskStates.map((t) => t.state)).toEqual(["RUNNING"]);
    expect(
      emulator()
        .callLines()
        .filter((line) => line.endsWith("/tasks")).length,
    ).toBeGreaterThan(1);
  });

  it("refuses to wait on a connector an operator paused, saying how to resume it", async () => {
    const outs = await created();
    await fetch(`${emulator().url}/connectors/cdc-source/pause`, { method: "PUT" });
    const message = await rejection(
      provider.update("cdc-source", outs, inputs({ config: { ...SOURCE_CONFIG, "tasks.max": "2" } })),
    );
    expect(message).toBe(
      'Kafka Connect connector "cdc-source": not RUNNING: connector is PAUSED; resume it (PUT /connectors/cdc-source/resume) and run again',
    );
  });
});

describe("validate on workers that resolve secrets", () => {
  // A connector-defined string key whose validator quotes the value it got (Kafka hides only PASSWORD-typed
  // values): the workers resolve the placeholder before validating, so Connect's message holds the secret.
  const HTTP_SOURCE = "com.example.http.HttpSourceConnector";
  const TOKEN_PLACEHOLDER = "${env:HTTP_API_TOKEN}";
  const RESOLVED_TOKEN = "tok-live-9f8e7d6c";
  const HTTP_VALIDATE = `/connector-plugins/${HTTP_SOURCE}/config/validate`;
  let connect: ConnectEmulator;
  beforeAll(async () => {
    connect = await ConnectEmulator.start({
      plugins: {
        [HTTP_SOURCE]: {
          type: "source",
          required: ["topic"],
          oneOf: { "http.api.token": ["tok-test-0000"], "http.mode": ["poll", "stream"] },
        },
      },
      secrets: { [TOKEN_PLACEHOLDER]: RESOLVED_TOKEN },
    });
  });
  afterAll(() => connect.stop());
  const httpInputs = (config: Record<string, string>) =>
    sourceInputs(connect.url, {
      name: "http-source",
      config: { "connector.class": HTTP_SOURCE, topic: "events", ...config },
    });

  it("never echoes a secret, resolved by the workers or sent in plaintext; other values show", async () => {
    for (const token of [TOKEN_PLACEHOLDER, "tok-plain-1234"]) {
      connect.resetCalls();
      const error = await provider
        .create(httpInputs({ "http.api.token": token, "http.mode": "sometimes" }))
        .then(
          () => undefined,
          (err: unknown) => err as Error,
        );
      expect(error?.message).toBe(
        'Kafka Connect connector "http-source": Connect rejected the config: ' +
          `PUT ${HTTP_VALIDATE} reported 2 error(s); nothing was applied (no PUT /connectors/http-source/config), ` +
          "the connector is left as it was:\n" +
          "  http.api.token: Invalid value [hidden] for configuration http.api.token: String must be one of: tok-test-0000\n" +
          "  http.mode: Invalid value sometimes for configuration http.mode: String must be one of: poll, stream",
      );
      expect(error?.message).not.toContain(RESOLVED_TOKEN);
      expect(error?.message).not.toContain("tok-plain-1234");
      expect(connect.callLines()).toEqual(["GET /connectors/http-source/config", `PUT ${HTTP_VALIDATE}`]);
    }
  });
});

describe("read (refresh)", () => {
  it("returns the live config and states, and inputs carrying the live config, so drift shows", async () => {
    const outs = await created();
    emulator().editConfig("cdc-source", { "tasks.max": "4" });
    const result = await provider.read("cdc-source", outs);
    expect(result.id).toBe("cdc-source");
    expect(result.props?.config).toEqual({ ...SOURCE_CONFIG, "tasks.max": "4" });
    expect(result.props?.taskStates).toEqual([{ id: 0, state: "RUNNING", workerId: "10.0.1.10:8083" }]);
    expect(result.inputs).toEqual({ ...inputs(), config: { ...SOURCE_CONFIG, "tasks.max": "4" } });
    // The next preview compares the desired config with the drifted one and plans an in-place update.
    expect((await provider.diff("cdc-source", result.props!, inputs())).detailedDiff).toEqual({
      'config["tasks.max"]': { kind: "update", inputDiff: true },
    });
    expect(emulator().callLines()).toEqual([
      "GET /connectors/cdc-source/config",
      "GET /connectors/cdc-source/status",
    ]);
  });

  it("returns no id for a connector deleted by hand, so Pulumi drops it", async () => {
    const outs = await created();
    emulator().removeConnector("cdc-source");
    expect(await provider.read("cdc-source", outs)).toEqual({});
    expect(emulator().callLines()).toEqual(["GET /connectors/cdc-source/config"]);
  });
});

describe("delete", () => {
  it("DELETEs the connector", async () => {
    const outs = await created();
    await provider.delete("cdc-source", outs);
    expect(emulator().calls).toEqual([{ method: "DELETE", path: "/connectors/cdc-source", status: 204 }]);
    expect(emulator().configOf("cdc-source")).toBeUndefined();
  });

  it("treats a connector that is already gone as deleted", async () => {
    const outs = await created();
    emulator().removeConnector("cdc-source");
    await provider.delete("cdc-source", outs);
    expect(emulator().calls).toEqual([{ method: "DELETE", path: "/connectors/cdc-source", status: 404 }]);
  });

  it("keeps the offsets by default (a re-created connector resumes from them)", async () => {
    const outs = await created();
    emulator().setOffsets("cdc-source", [{ partition: { server: "cdc" }, offset: { lsn: 42 } }]);
    await provider.delete("cdc-source", outs);
    expect(emulator().offsetsOf("cdc-source")).toEqual([
      { partition: { server: "cdc" }, offset: { lsn: 42 } },
    ]);
  });

  it("with resetOffsetsOnDelete: stop, wait STOPPED, delete the offsets, then delete", async () => {
    const outs = await created({ resetOffsetsOnDelete: true });
    emulator().setOffsets("cdc-source", [{ partition: { server: "cdc" }, offset: { lsn: 42 } }]);
    await provider.delete("cdc-source", outs);
    expect(emulator().calls).toEqual([
      { method: "PUT", path: "/connectors/cdc-source/stop", status: 204 },
      { method: "GET", path: "/connectors/cdc-source/status", status: 200 },
      { method: "DELETE", path: "/connectors/cdc-source/offsets", status: 200 },
      { method: "DELETE", path: "/connectors/cdc-source", status: 204 },
    ]);
    expect(emulator().offsetsOf("cdc-source")).toEqual([]);
  });

  it("with resetOffsetsOnDelete on a connector that is gone: nothing to stop, done", async () => {
    const outs = await created({ resetOffsetsOnDelete: true });
    emulator().removeConnector("cdc-source");
    await provider.delete("cdc-source", outs);
    expect(emulator().callLines()).toEqual([
      "PUT /connectors/cdc-source/stop",
      "DELETE /connectors/cdc-source",
    ]);
  });
});

describe("check", () => {
  it("returns the inputs and the failures", async () => {
    const news = inputs({ config: { ...SOURCE_CONFIG, "database.password": "hunter2" } });
    const result = await provider.check(inputs(), news);
    expect(result.inputs).toBe(news);
    expect(result.failures).toEqual([
      {
        property: 'config["database.password"]',
        reason:
          "looks like a credential and must be a config-provider placeholder such as ${secretsmanager:<secret name>:password} or ${env:VAR}, never the plaintext value",
      },
    ]);
  });
});
