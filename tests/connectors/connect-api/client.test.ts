// The REST client against the Connect emulator on a real socket: exact call counts for the retry policy.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createConnectClient,
  isConnectApiError,
  type ConnectApiError,
  type ConnectClientOptions,
} from "../../../connectors/connect-api";
import { ConnectEmulator } from "./connect-emulator";
import { FAST_RETRY, SOURCE_CONFIG, useConnectEmulator } from "./fixtures";

const emulator = useConnectEmulator();

const sleeps: number[] = [];
function client(options: Partial<ConnectClientOptions> = {}) {
  sleeps.length = 0;
  return createConnectClient({
    connectUrl: emulator().url,
    connector: "cdc-source",
    requestTimeoutMs: 1_000,
    retry: FAST_RETRY,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<ConnectApiError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isConnectApiError(error)) throw new Error(`expected a ConnectApiError, got ${String(error)}`);
  return error;
}

describe("ConnectClient", () => {
  it("creates with 201, updates with 200, and reads the config back verbatim (placeholders unresolved)", async () => {
    const api = client();
    expect((await api.putConfig(SOURCE_CONFIG)).created).toBe(true);
    const second = await api.putConfig({ ...SOURCE_CONFIG, "tasks.max": "2" });
    expect(second.created).toBe(false);
    // Connect answers an update with the new config and the tasks it knew before.
    expect(second.info).toEqual({
      name: "cdc-source",
      config: { ...SOURCE_CONFIG, "tasks.max": "2", name: "cdc-source" },
      tasks: [{ connector: "cdc-source", task: 0 }],
      type: "source",
    });
    expect(await api.getConfig()).toEqual({ ...SOURCE_CONFIG, "tasks.max": "2", name: "cdc-source" });
    expect(emulator().callLines()).toEqual([
      "PUT /connectors/cdc-source/config",
      "PUT /connectors/cdc-source/config",
      "GET /connectors/cdc-source/config",
    ]);
  });

  it("validates against the plugin in connector.class, sending the connector's name, and applies nothing", async () => {
    const { "topic.prefix": _dropped, ...invalid } = SOURCE_CONFIG;
    const result = await client().validateConfig(invalid);
    // Connect requires `name` on validate; the client adds the connector's, so only topic.prefix fails.
    expect(result.error_count).toBe(1);
    // Debezium lists one key with no value at all (value: null).
    const failing = result.configs.filter((c) => (c.value?.errors ?? []).length > 0);
    expect(failing.map((c) => [c.value.name, c.value.errors])).toEqual([
      ["topic.prefix", ["The 'topic.prefix' value is invalid: A value is required"]],
    ]);
    expect(emulator().calls).toEqual([
      {
        method: "PUT",
        path: "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate",
        status: 200,
      },
    ]);
    expect(emulator().configOf("cdc-source")).toBeUndefined();
  });

  it("retries validate on 409 and 5xx, never on 404", async () => {
    emulator().rebalance(1);
    emulator().inject({ count: 1, status: 503, message: "Service Unavailable" });
    expect((await client().validateConfig(SOURCE_CONFIG)).error_count).toBe(0);
    expect(emulator().calls.map((c) => c.status)).toEqual([409, 503, 200]);
    emulator().resetCalls();
    emulator().inject({
      count: 1,
      pathSuffix: "/config/validate",
      status: 404,
      message: "HTTP 404 Not Found",
    });
    const error = await failure(client().validateConfig(SOURCE_CONFIG));
    expect(error.status).toBe(404);
    expect(emulator().calls).toHaveLength(1);
  });

  it("returns undefined / false for a connector that does not exist (404 is an answer, not an error)", async () => {
    const api = client();
    expect(await api.getConfig()).toBeUndefined();
    expect(await api.getStatus()).toBeUndefined();
    expect(await api.deleteConnector()).toBe(false);
    expect(await api.stop()).toBe(false);
    expect(emulator().calls.map((c) => c.status)).toEqual([404, 404, 404, 404]);
  });

  it("retries a rebalance: 409 twice then success is 3 PUTs, with growing jittered backoff", async () => {
    emulator().rebalance(2);
    const result = await client().putConfig(SOURCE_CONFIG);
    expect(result.created).toBe(true);
    expect(emulator().calls).toEqual([
      { method: "PUT", path: "/connectors/cdc-source/config", status: 409 },
      { method: "PUT", path: "/connectors/cdc-source/config", status: 409 },
      { method: "PUT", path: "/connectors/cdc-source/config", status: 201 },
    ]);
    // full jitter at 0.5 of min(4, 1 * 2^(n-1)): 0.5 -> 0, 1 -> 1
    expect(sleeps).toEqual([0, 1]);
  });

  it("never retries a 400, and names the connector, request, status and Connect's error list", async () => {
    // A FileStream source without its topic (an invalid Debezium config makes Connect fail with a 500).
    const invalid = {
      "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
      file: "in.txt",
    };
    const error = await failure(client().putConfig(invalid));
    expect(emulator().calls).toHaveLength(1);
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      'Kafka Connect connector "cdc-source": PUT /connectors/cdc-source/config failed with HTTP 400 after 1 attempt: ' +
        "Connector configuration is invalid and contains the following 1 error(s):\n" +
        'Missing required configuration "topic" which has no default value.\n' +
        "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
    );
  });

  it("reports a missing connector.class as Connect does, without retrying", async () => {
    const { "connector.class": _dropped, ...invalid } = SOURCE_CONFIG;
    const error = await failure(client().putConfig(invalid));
    expect(emulator().calls).toHaveLength(1);
    expect(error.connectMessage).toMatch(/^Connector config \{.*\} contains no connector type$/);
  });

  it("gives up on a persistent 5xx after maxAttempts and names the status and message", async () => {
    emulator().inject({ count: 10, status: 500, message: "Request timed out" });
    const error = await failure(client().putConfig(SOURCE_CONFIG));
    expect(emulator().calls.map((c) => c.status)).toEqual([500, 500, 500, 500, 500]);
    expect(error.message).toBe(
      'Kafka Connect connector "cdc-source": PUT /connectors/cdc-source/config failed with HTTP 500 after 5 attempts: Request timed out',
    );
    expect(sleeps).toEqual([0, 1, 2, 2]);
  });

  it("recovers from a 503 then succeeds", async () => {
    emulator().inject({ count: 1, status: 503, message: "Service Unavailable" });
    expect(await client().getConfig()).toBeUndefined();
    expect(emulator().calls.map((c) => c.status)).toEqual([503, 404]);
  });

  it("retries a request that times out (a slow worker), and the retry sees the applied config", async () => {
    emulator().inject({ count: 1, method: "PUT", delayMs: 1_500 });
    const result = await client({ requestTimeoutMs: 500 }).putConfig(SOURCE_CONFIG);
    // The slow PUT was still applied by the worker, so the retry updates (200) instead of creating.
    expect(result.created).toBe(false);
    expect(emulator().calls.map((c) => `${c.method} ${c.status}`)).toEqual(["PUT 201", "PUT 200"]);
  });

  it("fails a request that keeps timing out with the transport error", async () => {
    emulator().inject({ count: 5, delayMs: 150 });
    const error = await failure(client({ requestTimeoutMs: 50 }).getStatus());
    expect(error.status).toBeUndefined();
    expect(error.message).toBe(
      'Kafka Connect connector "cdc-source": GET /connectors/cdc-source/status failed after 5 attempts: timeout of 50ms exceeded (ECONNABORTED)',
    );
  });

  it("retries a refused connection (workers not listening yet) and then reports it", async () => {
    const closed = await ConnectEmulator.start();
    const url = closed.url;
    await closed.stop();
    const error = await failure(
      client({ connectUrl: url, retry: { ...FAST_RETRY, maxAttempts: 3 } }).getConfig(),
    );
    expect(error.attempts).toBe(3);
    expect(error.message).toMatch(
      /GET \/connectors\/cdc-source\/config failed after 3 attempts: .*\(ECONNREFUSED\)$/,
    );
  });

  it("URL-encodes the connector name", async () => {
    const api = client({ connector: "cdc source/1" });
    expect(await api.getConfig()).toBeUndefined();
    expect(emulator().calls[0]?.path).toBe("/connectors/cdc%20source%2F1/config");
  });
});

describe("ConnectClient basic auth", () => {
  let secured: ConnectEmulator;
  beforeAll(async () => {
    secured = await ConnectEmulator.start({ basicAuth: { username: "pulumi", password: "s3cret" } });
  });
  afterAll(() => secured.stop());

  it("sends the password read from the environment variable", async () => {
    const api = client({
      connectUrl: secured.url,
      auth: { username: "pulumi", passwordEnvVar: "CONNECT_PW" },
      env: { CONNECT_PW: "s3cret" },
    });
    expect(await api.getConfig()).toBeUndefined();
    expect(secured.calls.at(-1)?.status).toBe(404);
  });

  it("fails with 401 once (never retried) on a wrong password", async () => {
    secured.resetCalls();
    const api = client({
      connectUrl: secured.url,
      auth: { username: "pulumi" },
      env: { KAFKA_CONNECT_PASSWORD: "wrong" },
    });
    const error = await failure(api.getConfig());
    expect(secured.calls).toHaveLength(1);
    expect(error.message).toBe(
      'Kafka Connect connector "cdc-source": GET /connectors/cdc-source/config failed with HTTP 401 after 1 attempt: Credentials are not valid',
    );
  });

  it("refuses to start without the password variable, naming it", () => {
    expect(() => client({ connectUrl: secured.url, auth: { username: "pulumi" }, env: {} })).toThrow(
      'Kafka Connect connector "cdc-source": basic auth for user "pulumi" needs the password in the environment variable KAFKA_CONNECT_PASSWORD, which is not set',
    );
  });
});

describe("ConnectClient over https with an internal CA", () => {
  // tls/: a test-only CA and a certificate for 127.0.0.1 it signed (openssl, valid for 100 years).
  const tlsFile = (name: string) => readFileSync(join(__dirname, "tls", name), "utf8");
  let secure: ConnectEmulator;
  beforeAll(async () => {
    secure = await ConnectEmulator.start({
      tls: { key: tlsFile("server.key"), cert: tlsFile("server.pem") },
    });
  });
  afterAll(() => secure.stop());

  it("trusts the Connect certificate through tlsCa", async () => {
    expect(await client({ connectUrl: secure.url, tlsCa: tlsFile("ca.pem") }).getConfig()).toBeUndefined();
    expect(secure.calls.at(-1)?.status).toBe(404);
  });

  it("fails once, without retrying, when the CA is not trusted", async () => {
    secure.resetCalls();
    const error = await failure(client({ connectUrl: secure.url }).getConfig());
    expect(error.attempts).toBe(1);
    expect(error.message).toBe(
      'Kafka Connect connector "cdc-source": GET /connectors/cdc-source/config failed after 1 attempt: ' +
        "unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)",
    );
    expect(secure.calls).toEqual([]);
  });
});
