// How Pulumi itself reaches the private endpoints: the postgresql and kafka providers take their
// addresses from config when set (an SSM tunnel on localhost), else from the resources (a runner
// inside the VPC). The Connect REST URL follows the same rule in index.ts. See docs/deploy.md.
import * as aws from "@pulumi/aws";
import * as kafka from "@pulumi/kafka";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import type { DatabaseEndpoint } from "./database";
import { loadCaBundle } from "./database-tls";
import type { DatabaseConnection } from "../connectors/database/connection";

export interface PrivateEndpoints {
  postgresProvider: postgresql.Provider;
  kafkaProvider: kafka.Provider;
  /** Master-user connection for the DDL resource (secret). */
  adminConnection: pulumi.Output<DatabaseConnection>;
}

/** Master credentials from the RDS-managed (or given) secret, kept secret. */
export function masterCredentials(
  secretArn: pulumi.Input<string>,
): pulumi.Output<{ username: string; password: string }> {
  const version = aws.secretsmanager.getSecretVersionOutput({ secretId: secretArn });
  return pulumi.secret(
    version.secretString.apply((text) => {
      const parsed = JSON.parse(text) as { username?: string; password?: string };
      if (!parsed.username || !parsed.password) {
        throw new Error("the database master secret must be JSON with username and password");
      }
      return { username: parsed.username, password: parsed.password };
    }),
  );
}

export function privateEndpoints(
  cfg: StackConfig,
  database: DatabaseEndpoint,
  kafkaBootstrapBrokers: pulumi.Input<string>,
): PrivateEndpoints {
  const override = cfg.endpoints.database;
  const host = override ? pulumi.output(override.host) : database.host;
  const port = override ? pulumi.output(override.port) : database.port;
  const credentials = masterCredentials(database.masterSecretArn);
  const sslMode = cfg.endpoints.databaseSslMode;
  // verify-ca / verify-full check the server against the RDS CAs (docs/deploy.md, "TLS to the database").
  const caBundle =
    sslMode === "require"
      ? undefined
      : pulumi.output(
          loadCaBundle(cfg.region).then((bundle) => {
            void pulumi.log.info(`database TLS (${sslMode}) verifies against ${bundle.origin}`);
            return bundle;
          }),
        );
  const postgresProvider = new postgresql.Provider("postgres", {
    host,
    port,
    database: database.databaseName,
    username: credentials.username,
    password: credentials.password,
    sslmode: sslMode,
    sslrootcert: caBundle?.file,
    // The RDS master user is not a superuser (it is a member of rds_superuser).
    superuser: false,
    connectTimeout: 30,
  });
  const bootstrapServers = cfg.endpoints.kafkaBootstrapServers
    ? pulumi.output(cfg.endpoints.kafkaBootstrapServers)
    : pulumi.output(kafkaBootstrapBrokers).apply((brokers) => brokers.split(","));
  const kafkaProvider = new kafka.Provider("kafka", {
    bootstrapServers,
    tlsEnabled: true,
    saslMechanism: "aws-iam",
    saslAwsRegion: cfg.region,
    timeout: 120,
  });
  const adminConnection = pulumi.secret(
    pulumi.all([host, port, database.databaseName, credentials, caBundle]).apply(([h, p, db, c, ca]) => ({
      host: h,
      port: p,
      database: db,
      user: c.username,
      password: c.password,
      sslMode,
      ...(ca ? { caBundle: ca.pem } : {}),
    })),
  );
  return { postgresProvider, kafkaProvider, adminConnection };
}
