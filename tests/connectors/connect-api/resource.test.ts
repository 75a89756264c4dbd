// KafkaConnector under Pulumi mocks: the resource registers with the right inputs, and its provider is
// serialized (as `pulumi up` stores it in the state) into code that still works when loaded back.
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as connectApi from "../../../connectors/connect-api";
import { loadSerialized } from "../../common/serialized";
import { ConnectEmulator } from "./connect-emulator";
import { SOURCE_CONFIG, SOURCE_VALIDATE, sourceInputs } from "./fixtures";

const registered: pulumi.runtime.MockResourceArgs[] = [];
let api: typeof connectApi;
let connect: ConnectEmulator;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push(args);
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, connectorState: "RUNNING", taskStates: [], workerIds: [] },
        };
      },
      call(args) {
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    "cdc-pipeline",
    "test",
    false,
  );
  // Imported after setMocks, as a Pulumi program would be.
  api = await import("../../../connectors/connect-api/index.js");
  connect = await ConnectEmulator.start();
});
afterAll(() => connect.stop());

/**
 * An output's value. A provider that cannot be serialized makes registration fail (an unhandled rejection
 * vitest reports) and the outputs never resolve: fail after a while with that explanation, not at the test timeout.
 */
function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("output never resolved: did the provider fail to serialize?")),
      15_000,
    );
    output.apply((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

describe("KafkaConnector", () => {
  it("registers a dynamic resource with its inputs, the default version and the serialized provider", async () => {
    const connector = new api.KafkaConnector("cdc-source", {
      connectUrl: "http://connect.internal:8083",
      config: { ...SOURCE_CONFIG, "topic.prefix": pulumi.output("cdc") },
      resetOffsetsOnDelete: true,
    });
    expect(await resolved(connector.name)).toBe("cdc-source");
    expect(await resolved(connector.connectorState)).toBe("RUNNING");
    expect(await resolved(connector.config)).toEqual(SOURCE_CONFIG);
    const [resource] = registered.filter((r) => r.name === "cdc-source");
    expect(resource?.type).toBe("pulumi-nodejs:dynamic/connect:KafkaConnector");
    const { __provider, ...inputs } = resource!.inputs as Record<string, unknown>;
    expect(inputs).toEqual({
      name: "cdc-source",
      connectUrl: "http://connect.internal:8083",
      config: SOURCE_CONFIG,
      resetOffsetsOnDelete: true,
      version: api.CONNECTOR_PROVIDER_VERSION,
    });
    expect(typeof __provider).toBe("string");
    expect(__provider as string).toContain("exports.handler");
  });

  it("takes the connector name from args when given", async () => {
    const connector = new api.KafkaConnector("sink", {
      connectUrl: "http://c:8083",
      name: "cdc-s3-sink",
      config: { "connector.class": "x" },
    });
    expect(await resolved(connector.name)).toBe("cdc-s3-sink");
  });

  it("serializes the provider with no client captured, and the loaded copy manages a connector", async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => api.connectorProvider);
    // No axios instance or socket captured: the client is required and built inside the methods.
    expect(serialized.text).toContain('require("axios")');
    const provider = loadSerialized<typeof api.connectorProvider>(serialized.text);
    const inputs = sourceInputs(connect.url, {
      // Request timeout well above a loaded machine's latency, well below the slow answer.
      timeouts: { runningTimeoutSeconds: 5, requestTimeoutSeconds: 0.5, pollIntervalSeconds: 0.005 },
    });
    expect((await provider.check(inputs, inputs)).failures).toEqual([]);
    // Exercise the retry paths in the loaded copy too: a rebalance 409 and a request timeout.
    // The first PUT is Connect's validate, which the provider calls before PUT …/config.
    connect.inject({ count: 1, method: "PUT", status: 409, message: "rebalance" });
    connect.inject({ count: 1, pathSuffix: "/status", delayMs: 1_500 });
    const created = await provider.create(inputs);
    expect(created.outs?.connectorState).toBe("RUNNING");
    expect(await provider.diff("cdc-source", created.outs!, inputs)).toMatchObject({ changes: false });
    await provider.delete("cdc-source", created.outs!);
    expect(connect.calls).toEqual([
      { method: "GET", path: "/connectors/cdc-source/config", status: 404 },
      { method: "PUT", path: SOURCE_VALIDATE.slice(4), status: 409 },
      { method: "PUT", path: SOURCE_VALIDATE.slice(4), status: 200 },
      { method: "PUT", path: "/connectors/cdc-source/config", status: 201 },
      { method: "GET", path: "/connectors/cdc-source/status", status: 200 }, // answered too late: timed out
      { method: "GET", path: "/connectors/cdc-source/status", status: 200 },
      { method: "DELETE", path: "/connectors/cdc-source", status: 204 },
    ]);
  });

  it("the loaded copy reports a FAILED task with its trace", async () => {
    const provider = loadSerialized<typeof api.connectorProvider>(
      (await pulumi.runtime.serializeFunction(() => api.connectorProvider)).text,
    );
    connect.behave("cdc-failing", { failTask: { id: 0, trace: "org.postgresql.util.PSQLException: FATAL" } });
    const failure = await provider.create(sourceInputs(connect.url, { name: "cdc-failing" })).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(failure?.message).toBe(
      'Kafka Connect connector "cdc-failing": not RUNNING: task 0 FAILED on 10.0.1.10:8083: org.postgresql.util.PSQLException: FATAL',
    );
  });
});
