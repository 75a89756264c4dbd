// A review stack: `ephemeral: true` makes everything destroyable (no protection, no final snapshot,
// force-destroy, no versioning, short log retention, secrets deleted at once).
import { REGION } from "./harness";
import { stackSuite } from "./stack-suite";

export const REVIEW_STACK_CONFIG = {
  "aws:region": REGION,
  "cdc-pipeline:ephemeral": "true",
  "cdc-pipeline:rdsInstanceClass": "db.t4g.micro",
  "cdc-pipeline:rdsAllocatedStorageGb": "20",
  "cdc-pipeline:rdsMaxAllocatedStorageGb": "20",
  "cdc-pipeline:connectDesiredCount": "1",
  "cdc-pipeline:connectMaxCount": "1",
  "cdc-pipeline:analyticsSchedule": "rate(15 minutes)",
};

stackSuite({
  stack: "pr-123",
  config: REVIEW_STACK_CONFIG,
  ephemeral: true,
  features: {
    newVpc: true,
    azCount: 2,
    tunnelHost: false,
    rds: true,
    brokers: 2,
    kms: false,
    ephemeral: true,
    alarmEmails: 0,
    inCluster: true,
  },
  rds: {
    instanceClass: "db.t4g.micro",
    multiAz: false,
    backupRetentionPeriod: 1,
    maxSlotWalKeepSizeMb: 10240,
  },
  kafka: { brokers: 2, replicationFactor: 2, partitions: 3, retentionHours: 168 },
  connect: { desired: 1, min: 1, max: 1, cpu: "1024", memory: "4096" },
  kms: false,
  createCommerceTables: true,
  logRetentionDays: 3,
  alarmEmails: [],
  schedule: "rate(15 minutes)",
  securityGroupRules: [
    ...[
      "connect-to-database-5432",
      "connect-to-kafka-9098",
      "connect-to-connect-8083",
      "connectLb-to-connect-8083",
      "connect-to-endpoints-443",
      "analytics-to-endpoints-443",
    ].flatMap((n) => [`${n}-in`, `${n}-out`]),
    "vpc-to-connectLb-80-in",
    "connect-to-s3-443-out",
    "analytics-to-s3-443-out",
  ],
  endpoints: {
    databaseHost: `cdc-pipeline-pr-123.abc.${REGION}.rds.amazonaws.com`,
    databasePort: 5432,
    connectUrl: `http://internal-connect-lb.${REGION}.elb.amazonaws.com`,
  },
  bucketPrefix: "cdc-pipeline-pr-123-",
});
