// The prod stack, from Pulumi.prod.yaml: three AZs, Multi-AZ RDS, three brokers, KMS, in-VPC runner.
import { REGION, readStackFile } from "./harness";
import { stackSuite } from "./stack-suite";
import { coreRules, ruleNames } from "./stack-scenario";

const core = coreRules(80, true); // with the connector health check

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
    rdsAlarms: true,
    inCluster: true,
    connectors: true,
  },
  rds: {
    instanceClass: "db.r6g.large",
    allocatedStorage: 200,
    maxAllocatedStorage: 1000,
    multiAz: true,
    backupRetentionPeriod: 14,
    maxSlotWalKeepSizeMb: 51200,
  },
  kafka: {
    brokers: 3,
    instanceType: "kafka.m7g.large",
    volumeGb: 500,
    replicationFactor: 3,
    partitions: 6,
    retentionHours: 168,
  },
  connect: { desired: 3, min: 2, max: 6, cpu: "2048", memory: "8192", https: false },
  kms: true,
  createCommerceTables: false,
  logRetentionDays: 90,
  alarmEmails: ["data-platform-oncall@example.com", "dba@example.com"],
  alarms: {
    databaseIdentifier: "cdc-pipeline-prod",
    slotLagBytes: 5368709120,
    walDiskBytes: 42949672960, // 80 % of max_slot_wal_keep_size (51200 MB)
    freeStorageBytes: 21474836480,
    kafkaDiskPercent: 80,
  },
  schedule: "cron(15 * * * ? *)",
  heartbeatPeriodSeconds: 3600,
  sinkRotateScheduleMs: 600_000, // the default 10 minutes
  securityGroupRules: ruleNames(
    [...core.both, "connect-to-endpoints-443", "analytics-to-endpoints-443"],
    [
      ...core.ingressOnly,
      "deployer0-to-database-5432",
      "deployer0-to-kafka-9098",
      "deployer0-to-connectLb-80",
    ],
    core.egressOnly,
  ),
  // No overrides: a runner inside the VPC uses the resources' own addresses.
  endpoints: {
    databaseHost: `cdc-pipeline-prod.abc.${REGION}.rds.amazonaws.com`,
    databasePort: 5432,
    connectUrl: `http://internal-connect-lb.${REGION}.elb.amazonaws.com`,
  },
  bucketPrefix: "cdc-pipeline-prod-",
});
