// The dev stack, from Pulumi.dev.yaml: long-lived, tunnelled endpoints, tunnel host.
import { readStackFile } from "./harness";
import { stackSuite } from "./stack-suite";

const flows = (names: string[]) =>
  names.flatMap((n) =>
    n.includes("-to-s3-") ? [`${n}-out`] : n.startsWith("vpc-") ? [`${n}-in`] : [`${n}-in`, `${n}-out`],
  );

export const DEV_RULES = flows([
  "connect-to-database-5432",
  "connect-to-kafka-9098",
  "connect-to-connect-8083",
  "connectLb-to-connect-8083",
  "vpc-to-connectLb-80",
  "connect-to-s3-443",
  "analytics-to-s3-443",
  "connect-to-endpoints-443",
  "analytics-to-endpoints-443",
  "tunnel-to-database-5432",
  "tunnel-to-kafka-9098",
  "tunnel-to-connectLb-80",
  "tunnel-to-endpoints-443",
]);

stackSuite({
  stack: "dev",
  config: readStackFile("dev"),
  ephemeral: false,
  features: {
    newVpc: true,
    azCount: 2,
    tunnelHost: true,
    rds: true,
    brokers: 2,
    kms: false,
    ephemeral: false,
    alarmEmails: 1,
    inCluster: true,
  },
  rds: {
    instanceClass: "db.t4g.medium",
    multiAz: false,
    backupRetentionPeriod: 3,
    maxSlotWalKeepSizeMb: 4096,
  },
  kafka: { brokers: 2, replicationFactor: 2, partitions: 3, retentionHours: 72 },
  connect: { desired: 1, min: 1, max: 2, cpu: "1024", memory: "4096" },
  kms: false,
  createCommerceTables: true,
  logRetentionDays: 14,
  alarmEmails: ["data-platform-dev@example.com"],
  schedule: "rate(1 hour)",
  securityGroupRules: DEV_RULES,
  endpoints: { databaseHost: "localhost", databasePort: 15432, connectUrl: "http://localhost:18083" },
  bucketPrefix: "cdc-pipeline-dev-",
});
