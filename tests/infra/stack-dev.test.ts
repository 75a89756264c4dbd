// The dev stack, from Pulumi.dev.yaml: long-lived, deployed from the in-VPC runners, tunnel host for people.
import { readStackFile, REGION } from "./harness";
import { stackSuite } from "./stack-suite";
import { coreRules, ruleNames } from "./stack-scenario";

const core = coreRules(80, true); // with the connector health check

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
    rdsAlarms: true,
    inCluster: true,
    connectors: true,
  },
  rds: {
    instanceClass: "db.t4g.medium",
    allocatedStorage: 50,
    maxAllocatedStorage: 100,
    multiAz: false,
    backupRetentionPeriod: 3,
    maxSlotWalKeepSizeMb: 4096,
  },
  kafka: {
    brokers: 2,
    instanceType: "kafka.t3.small",
    volumeGb: 50,
    replicationFactor: 2,
    partitions: 3,
    retentionHours: 72,
  },
  connect: { desired: 1, min: 1, max: 2, cpu: "1024", memory: "4096", https: false },
  kms: false,
  createCommerceTables: true,
  logRetentionDays: 14,
  alarmEmails: ["data-platform-dev@example.com"],
  alarms: {
    databaseIdentifier: "cdc-pipeline-dev",
    slotLagBytes: 536870912,
    walDiskBytes: 3435973837, // 80 % of max_slot_wal_keep_size (4096 MB)
    freeStorageBytes: 10737418240,
    kafkaDiskPercent: 80,
  },
  schedule: "rate(1 hour)",
  heartbeatPeriodSeconds: 3600,
  sinkRotateScheduleMs: 600_000, // the default 10 minutes
  securityGroupRules: ruleNames(
    [
      ...core.both,
      "connect-to-endpoints-443",
      "analytics-to-endpoints-443",
      "tunnel-to-database-5432",
      "tunnel-to-kafka-9098",
      "tunnel-to-connectLb-80",
      "tunnel-to-endpoints-443",
    ],
    [
      ...core.ingressOnly,
      "deployer0-to-database-5432",
      "deployer0-to-kafka-9098",
      "deployer0-to-connectLb-80",
    ],
    core.egressOnly,
  ),
  // No overrides: the deploy runners use the resources' own addresses.
  endpoints: {
    databaseHost: `cdc-pipeline-dev.abc.${REGION}.rds.amazonaws.com`,
    databasePort: 5432,
    connectUrl: `http://internal-connect-lb.${REGION}.elb.amazonaws.com`,
  },
  bucketPrefix: "cdc-pipeline-dev-",
});
