// KafkaConnector: one Kafka Connect connector as a Pulumi resource, managed by `connectorProvider`.
import * as pulumi from "@pulumi/pulumi";
import { connectorProvider } from "./provider";
import type { ConnectState, ConnectorRetry, ConnectorTimeouts, TaskState } from "./types";

/**
 * Version of the provider's behaviour, stored with every connector. Bump it when a provider change must
 * re-apply existing connectors: a changed version is an in-place update that PUTs the config again.
 */
export const CONNECTOR_PROVIDER_VERSION = "1";

export interface KafkaConnectorArgs {
  /** Base URL of the Kafka Connect REST API, e.g. `http://connect.internal:8083`. Required. */
  readonly connectUrl: pulumi.Input<string>;
  /** The connector's name in Kafka Connect. Defaults to the resource name. Changing it replaces the connector. */
  readonly name?: pulumi.Input<string>;
  /**
   * The flat config map (`ConnectorConfig.config` from the config builders). Credentials only as
   * config-provider placeholders (`${secretsmanager:<secret name>:password}`). Changing `connector.class` replaces
   * the connector; any other key updates it in place. Required.
   */
  readonly config: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Basic auth on the REST API; the password is read from `passwordEnvVar` (default `KAFKA_CONNECT_PASSWORD`) inside the provider. Defaults to no auth. */
  readonly auth?: pulumi.Input<{ username: pulumi.Input<string>; passwordEnvVar?: pulumi.Input<string> }>;
  /** PEM of the CA that signed the REST API's certificate (https only). Defaults to Node's trusted CAs. */
  readonly tlsCa?: pulumi.Input<string>;
  /** Defaults to 300 s to reach RUNNING, 30 s per request, a status poll every 2 s. */
  readonly timeouts?: pulumi.Input<ConnectorTimeouts>;
  /** Defaults to 8 attempts, backoff from 500 ms capped at 15 s (full jitter), no retry after 120 s. */
  readonly retry?: pulumi.Input<ConnectorRetry>;
  /** Stop the connector and delete its offsets before deleting it, so a re-created one starts clean. Defaults to false. */
  readonly resetOffsetsOnDelete?: pulumi.Input<boolean>;
  /** Set a new value to force an update that re-applies the config. Defaults to `CONNECTOR_PROVIDER_VERSION`. */
  readonly version?: pulumi.Input<string>;
}

export class KafkaConnector extends pulumi.dynamic.Resource {
  /** The connector's name in Kafka Connect (also its id). */
  declare public readonly name: pulumi.Output<string>;
  /** The config Kafka Connect reports as applied (placeholders unresolved), refreshed by `pulumi refresh`. */
  declare public readonly config: pulumi.Output<Record<string, string>>;
  /** The connector's state after the last create, update or refresh. */
  declare public readonly connectorState: pulumi.Output<ConnectState>;
  /** Each task's id, state, worker and (when FAILED) trace. */
  declare public readonly taskStates: pulumi.Output<TaskState[]>;
  /** The workers running the connector and its tasks. */
  declare public readonly workerIds: pulumi.Output<string[]>;

  constructor(name: string, args: KafkaConnectorArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      connectorProvider,
      name,
      {
        connectUrl: args.connectUrl,
        name: args.name ?? name,
        config: args.config,
        auth: args.auth,
        tlsCa: args.tlsCa,
        timeouts: args.timeouts,
        retry: args.retry,
        resetOffsetsOnDelete: args.resetOffsetsOnDelete,
        version: args.version ?? CONNECTOR_PROVIDER_VERSION,
        // Outputs only, filled by the provider.
        connectorState: undefined,
        taskStates: undefined,
        workerIds: undefined,
      },
      opts,
      "connect",
      "KafkaConnector",
    );
  }
}
