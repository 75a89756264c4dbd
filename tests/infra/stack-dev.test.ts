// The dev stack, from Pulumi.dev.yaml: long-lived, tunnelled endpoints, tunnel host.
import { readStackFile } from "./harness";
import { stackSuite } from "./stack-suite";
import { coreRules, ruleNames } from "./stack-scenario";

const core = coreRules(80);

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
    core.ingressOnly,
    core.egressOnly,
  ),
  endpoints: { databaseHost: "localhost", databasePort: 15432, connectUrl: "http://localhost:18083" },
  bucketPrefix: "cdc-pipeline-dev-",
});
