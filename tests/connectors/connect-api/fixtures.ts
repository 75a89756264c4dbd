// Shared by the connect-api tests: a Debezium source config with its password as a placeholder, provider
// settings that keep retries and polls in the millisecond range, and the emulator's lifecycle.
import { afterAll, afterEach, beforeAll } from "vitest";
import type { ConnectorInputs } from "../../../connectors/connect-api";
import { ConnectEmulator } from "./connect-emulator";

/** By the secret's name: Kafka reads the path only up to the placeholder's second colon, so never an ARN. */
export const PASSWORD_PLACEHOLDER = "${secretsmanager:cdc-pipeline/dev/cdc_connector-AbCdEf:password}";

/** Every key Debezium 3.6.1 requires is set (the user and dbname too), so Connect's validate accepts it. */
export const SOURCE_CONFIG: Record<string, string> = {
  "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
  "database.dbname": "app",
  "database.hostname": "db.internal",
  "database.password": PASSWORD_PLACEHOLDER,
  "database.user": "cdc_connector",
  "plugin.name": "pgoutput",
  "tasks.max": "1",
  "topic.prefix": "cdc",
};

/** Connect's validation of SOURCE_CONFIG's plugin, which the provider calls before each `PUT …/config`. */
export const SOURCE_VALIDATE =
  "PUT /connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate";

export const FAST_RETRY = { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 4, maxElapsedMs: 5_000 };

export function sourceInputs(connectUrl: string, overrides: Partial<ConnectorInputs> = {}): ConnectorInputs {
  return {
    connectUrl,
    name: "cdc-source",
    config: { ...SOURCE_CONFIG },
    timeouts: { runningTimeoutSeconds: 2, requestTimeoutSeconds: 1, pollIntervalSeconds: 0.005 },
    retry: FAST_RETRY,
    version: "1",
    ...overrides,
  };
}

/** One emulator per test file, emptied after each test: call the returned function for it. */
export function useConnectEmulator(): () => ConnectEmulator {
  let connect: ConnectEmulator | undefined;
  beforeAll(async () => {
    connect = await ConnectEmulator.start();
  });
  afterAll(() => connect?.stop());
  afterEach(() => connect?.reset());
  return () => connect!;
}
