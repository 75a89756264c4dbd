// An ephemeral stack in its own VPC: `ephemeral: true` makes everything destroyable (no protection, no final snapshot,
// force-destroy, no versioning, short log retention, secrets deleted at once).
import { REGION } from "./harness";
import { stackSuite } from "./stack-suite";
import { coreRules, ruleNames } from "./stack-scenario";

export const EPHEMERAL_STACK_CONFIG = {
  "aws:region": REGION,
  "cdc-pipeline:ephemeral": "true",
  "cdc-pipeline:rdsInstanceClass": "db.t4g.micro",
  "cdc-pipeline:rdsAllocatedStorageGb": "20",
  "cdc-pipeline:rdsMaxAllocatedStorageGb": "20",
  "cdc-pipeline:connectDesiredCount": "1",
  "cdc-pipeline:connectMaxCount": "1",
  "cdc-pipeline:analyticsSchedule": "rate(15 minutes)",
  // Wall-clock rotation of the sink's files off: they rotate on flush.size only.
  "cdc-pipeline:sinkRotateScheduleMinutes": "0",
};

const core = coreRules(80, true); // with the connector health check

stackSuite({
  stack: "pr-123",
  config: EPHEMERAL_STACK_CONFIG,
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
    rdsAlarms: true,
    inCluster: true,
    connectors: true,
  },
  rds: {
    instanceClass: "db.t4g.micro",
    allocatedStorage: 20,
    maxAllocatedStorage: 20,
    multiAz: false,
    backupRetentionPeriod: 1,
    maxSlotWalKeepSizeMb: 10240,
  },
  kafka: {
    brokers: 2,
    instanceType: "kafka.t3.small",
    volumeGb: 100,
    replicationFactor: 2,
    partitions: 3,
    retentionHours: 168,
  },
  connect: { desired: 1, min: 1, max: 1, cpu: "1024", memory: "4096", https: false },
  kms: false,
  createCommerceTables: true,
  logRetentionDays: 3,
  alarmEmails: [],
  alarms: {
    databaseIdentifier: "cdc-pipeline-pr-123",
    slotLagBytes: 1073741824,
    walDiskBytes: 8589934592, // 80 % of max_slot_wal_keep_size (10240 MB)
    freeStorageBytes: 10737418240,
    kafkaDiskPercent: 80,
  },
  schedule: "rate(15 minutes)",
  heartbeatPeriodSeconds: 900,
  sinkRotateScheduleMs: undefined, // sinkRotateScheduleMinutes: 0
  securityGroupRules: ruleNames(
    [...core.both, "connect-to-endpoints-443", "analytics-to-endpoints-443"],
    core.ingressOnly,
    core.egressOnly,
  ),
  endpoints: {
    databaseHost: `cdc-pipeline-pr-123.abc.${REGION}.rds.amazonaws.com`,
    databasePort: 5432,
    connectUrl: `http://internal-connect-lb.${REGION}.elb.amazonaws.com`,
  },
  bucketPrefix: "cdc-pipeline-pr-123-",
});
