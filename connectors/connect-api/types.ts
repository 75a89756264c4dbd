// Shapes shared by the Kafka Connect client, the provider and the resource.

/** Connector and task states reported by `GET /connectors/{name}/status`. */
export type ConnectState = "UNASSIGNED" | "RUNNING" | "PAUSED" | "FAILED" | "RESTARTING" | "STOPPED";

/** Body of `GET /connectors/{name}/status`. */
export interface ConnectorStatus {
  name: string;
  connector: { state: ConnectState; worker_id: string; trace?: string };
  tasks: Array<{ id: number; state: ConnectState; worker_id: string; trace?: string }>;
  type?: "source" | "sink";
}

/** Body of `PUT /connectors/{name}/config` and `GET /connectors/{name}`. */
export interface ConnectorInfo {
  name: string;
  config: Record<string, string>;
  tasks: Array<{ connector: string; task: number }>;
  type?: "source" | "sink";
}

/**
 * One element of `GET /connectors/{name}/tasks`: the config a task runs, as the connector generated it
 * from its config (placeholders unresolved: Connect writes them back in place of the resolved values).
 */
export interface TaskConfig {
  id: { connector: string; task: number };
  config: Record<string, string>;
}

/**
 * Body of `PUT /connector-plugins/{class}/config/validate` (200): `error_count` is the number of errors over
 * all keys, and each key's `value.errors` holds Connect's messages for it. `value.value` may be the value
 * after the workers resolved config-provider placeholders, so it is never shown.
 */
export interface ConfigValidation {
  name: string;
  error_count: number;
  groups?: string[];
  configs: Array<{
    definition?: { name: string; required?: boolean };
    value: {
      name: string;
      value?: string | null;
      errors: string[];
      recommended_values?: string[];
      visible?: boolean;
    };
  }>;
}

/** Body of `GET /connectors/{name}/offsets` (Kafka Connect 3.5+). */
export interface ConnectorOffsets {
  offsets: Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> }>;
}

/** Basic authentication on the Connect REST API; the password is never an input (see docs/connectors.md). */
export interface ConnectorAuth {
  username: string;
  /** Environment variable that holds the password, read inside the provider. Defaults to `KAFKA_CONNECT_PASSWORD`. */
  passwordEnvVar?: string;
}

export interface ConnectorTimeouts {
  /** How long create/update wait for the connector and its tasks to be RUNNING. Defaults to 300 seconds. */
  runningTimeoutSeconds?: number;
  /** Timeout of one HTTP request. Defaults to 30 seconds. */
  requestTimeoutSeconds?: number;
  /** Interval between two status polls. Defaults to 2 seconds. */
  pollIntervalSeconds?: number;
}

/** Retry of 409 (rebalance), 5xx and network failures: capped exponential backoff with full jitter. */
export interface ConnectorRetry {
  /** Attempts per request, the first included. Defaults to 8. */
  maxAttempts?: number;
  /** Backoff before the first retry (its cap; full jitter draws below it). Defaults to 500 ms. */
  baseDelayMs?: number;
  /** Cap of one backoff. Defaults to 15000 ms. */
  maxDelayMs?: number;
  /** No retry starts after this long since the first attempt. Defaults to 120000 ms. */
  maxElapsedMs?: number;
}

/** The provider's inputs, after the resource resolved every `pulumi.Input`. */
export interface ConnectorInputs {
  connectUrl: string;
  name: string;
  config: Record<string, string>;
  auth?: ConnectorAuth;
  tlsCa?: string;
  timeouts?: ConnectorTimeouts;
  retry?: ConnectorRetry;
  resetOffsetsOnDelete?: boolean;
  version?: string;
}

export interface TaskState {
  id: number;
  state: ConnectState;
  workerId: string;
  trace?: string;
}

/**
 * The provider's outputs: the inputs, with `config` replaced by the config Connect reports as applied
 * (same key, so the engine keeps it secret when the input was), plus the live states.
 */
export interface ConnectorOutputs extends ConnectorInputs {
  connectorState: ConnectState;
  taskStates: TaskState[];
  workerIds: string[];
}
