// The two connectors of the pipeline, built by connectors/config (the same builders the local
// runtime uses) and managed through the Connect REST API by connectors/connect-api's resource.
import * as pulumi from "@pulumi/pulumi";
import { buildSinkConnector, buildSourceConnector, type ConnectorConfig } from "../connectors/config";
import { KafkaConnector } from "../connectors/connect-api";
import type { DatabaseSslMode } from "../connectors/database";

/** Where the worker image keeps the RDS certificate authorities (connectors/worker/Dockerfile). */
export const WORKER_RDS_CA_BUNDLE = "/opt/kafka/config/cdc/rds-ca-bundle.pem";

export interface PipelineConnectorsArgs {
  /** Connect REST URL Pulumi calls (load balancer, or a tunnel). */
  connectUrl: pulumi.Input<string>;
  /** Database address as the Connect workers see it (inside the VPC). */
  databaseHost: pulumi.Input<string>;
  /** Its port. */
  databasePort: pulumi.Input<number>;
  /** The database holding the captured tables. */
  databaseName: pulumi.Input<string>;
  /**
   * The connector's `database.sslmode`, the stack's `databaseSslMode`; verify-ca and verify-full check
   * the server against the RDS CAs the worker image ships. Defaults to "require".
   */
  databaseSslMode?: DatabaseSslMode;
  /**
   * `${secretsmanager:<secret name>:password}`: resolved by the workers, never by Pulumi. The secret's
   * name, not its ARN: Kafka reads the path only up to the placeholder's second colon.
   */
  passwordPlaceholder: pulumi.Input<string>;
  /** The bucket the S3 sink writes to. */
  bucketName: pulumi.Input<string>;
  /** The bucket's region. */
  region: string;
  /** The S3 sink's `topics.dir`. */
  topicsDir: string;
  /**
   * The S3 sink's wall-clock rotation (`rotate.schedule.interval.ms`, with `timezone=UTC`), so a
   * quiet table's last changes land within that time; undefined: files rotate on `flush.size` only.
   */
  sinkScheduledRotationMs?: number;
  /** What must exist before the connectors start (service, topics, publication, slot). */
  dependsOn: pulumi.Input<pulumi.Resource>[];
  /** The Connect service: when it is deleted, the connectors go with it (no REST calls). */
  connectService: pulumi.Resource;
}

export class PipelineConnectors extends pulumi.ComponentResource {
  readonly source: KafkaConnector;
  readonly sink: KafkaConnector;

  constructor(name: string, args: PipelineConnectorsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:connect:PipelineConnectors", name, {}, opts);
    const sourceConfig: pulumi.Output<ConnectorConfig> = pulumi
      .all([args.databaseHost, args.databasePort, args.databaseName, args.passwordPlaceholder])
      .apply(([hostname, port, dbname, password]) =>
        buildSourceConnector({
          database: {
            hostname,
            port,
            dbname,
            password,
            sslMode: args.databaseSslMode ?? "require",
            ...(args.databaseSslMode?.startsWith("verify-") ? { sslRootCert: WORKER_RDS_CA_BUNDLE } : {}),
          },
        }),
      );
    const sinkConfig: pulumi.Output<ConnectorConfig> = pulumi.output(args.bucketName).apply((bucket) =>
      buildSinkConnector({
        bucket,
        region: args.region,
        topicsDir: args.topicsDir,
        scheduledRotationMs: args.sinkScheduledRotationMs,
      }),
    );
    const options = { parent: this, dependsOn: args.dependsOn, deletedWith: args.connectService };
    this.source = new KafkaConnector(
      `${name}-source`,
      { connectUrl: args.connectUrl, name: sourceConfig.name, config: sourceConfig.config },
      options,
    );
    this.sink = new KafkaConnector(
      `${name}-sink`,
      { connectUrl: args.connectUrl, name: sinkConfig.name, config: sinkConfig.config },
      options,
    );
    this.registerOutputs({ sourceName: this.source.name, sinkName: this.sink.name });
  }
}
