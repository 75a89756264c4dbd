// The prod stack, from Pulumi.prod.yaml: three AZs, Multi-AZ RDS, three brokers, KMS, in-VPC runner.
import { REGION, readStackFile } from "./harness";
import { stackSuite } from "./stack-suite";

const both = (names: string[]) => names.flatMap((n) => [`${n}-in`, `${n}-out`]);

stackSuite({
  stack: "prod",
  config: readStackFile("prod"),
  ephemeral: false,
  features: {
    newVpc: true,
    azCount: 3,
    tunnelHost: false,
    rds: true,
    brokers: 3,
    kms: true,
    ephemeral: false,
    alarmEmails: 2,
    inCluster: true,
    deployerCidrs: 1,
  },
  rds: {
    instanceClass: "db.r6g.large",
    multiAz: true,
    backupRetentionPeriod: 14,
    maxSlotWalKeepSizeMb: 51200,
  },
  kafka: { brokers: 3, replicationFactor: 3, partitions: 6, retentionHours: 168 },
  connect: { desired: 3, min: 2, max: 6, cpu: "2048", memory: "8192" },
  kms: true,
  createCommerceTables: false,
  logRetentionDays: 90,
  alarmEmails: ["data-platform-oncall@example.com", "dba@example.com"],
  schedule: "cron(15 * * * ? *)",
  securityGroupRules: [
    ...both([
      "connect-to-database-5432",
      "connect-to-kafka-9098",
      "connect-to-connect-8083",
      "connectLb-to-connect-8083",
      "connect-to-endpoints-443",
      "analytics-to-endpoints-443",
    ]),
    "vpc-to-connectLb-80-in",
    "deployer0-to-database-5432-in",
    "deployer0-to-kafka-9098-in",
    "deployer0-to-connectLb-80-in",
    "connect-to-s3-443-out",
    "analytics-to-s3-443-out",
  ],
  // No overrides: a runner inside the VPC uses the resources' own addresses.
  endpoints: {
    databaseHost: `cdc-pipeline-prod.abc.${REGION}.rds.amazonaws.com`,
    databasePort: 5432,
    connectUrl: `http://internal-connect-lb.${REGION}.elb.amazonaws.com`,
  },
  bucketPrefix: "cdc-pipeline-prod-",
});
