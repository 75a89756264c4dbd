// A review stack as the workflows make it: Pulumi.pr.yaml rendered for PR 42. It runs in the shared
// review VPC (no route tables given: that VPC brings its own S3 path), whose interface endpoints or
// NAT gateway the tasks reach over HTTPS, deployed from the runners in that VPC (deployerCidrs).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { renderTemplate } from "../../delivery/stack-file";
import { REGION, ROOT } from "./harness";
import { stackSuite } from "./stack-suite";
import { coreRules, ruleNames } from "./stack-scenario";

const rendered = renderTemplate(readFileSync(path.join(ROOT, "Pulumi.pr.yaml"), "utf8"), "Pulumi.pr.yaml", {
  AWS_REGION: REGION,
  REVIEW_VPC_ID: "vpc-0123456789abcdef0",
  REVIEW_PRIVATE_SUBNET_IDS: '["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]',
  DEPLOYER_CIDRS: '["10.9.8.0/24"]',
  PR_NUMBER: "42",
  STACK: "pr-42",
});
// Lists and maps reach the program as JSON text, as Pulumi hands them over.
const config = Object.fromEntries(
  Object.entries(rendered).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
);

const core = coreRules(80, true); // with the connector health check

stackSuite({
  stack: "pr-42",
  config,
  ephemeral: true,
  features: {
    newVpc: false,
    azCount: 2,
    tunnelHost: false,
    rds: true,
    brokers: 0,
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
  kafka: { brokers: 0, replicationFactor: 3, partitions: 3, retentionHours: 168 },
  connect: { desired: 1, min: 1, max: 1, cpu: "1024", memory: "4096", https: false },
  kms: false,
  createCommerceTables: true,
  logRetentionDays: 3,
  alarmEmails: [],
  alarms: {
    databaseIdentifier: "cdc-pipeline-pr-42",
    slotLagBytes: 1073741824,
    walDiskBytes: 8589934592,
    freeStorageBytes: 10737418240,
    kafkaDiskPercent: 80,
  },
  schedule: "rate(15 minutes)",
  heartbeatPeriodSeconds: 900,
  sinkRotateScheduleMs: 600_000, // the default 10 minutes
  securityGroupRules: ruleNames(
    core.both,
    [
      ...core.ingressOnly,
      "deployer0-to-database-5432",
      "deployer0-to-kafka-9098",
      "deployer0-to-connectLb-80",
    ],
    // 443 to anywhere (existingVpcAwsApiCidrs): the review VPC's interface endpoints or its NAT
    // gateway, whichever it has; with the VPC's CIDR only, a NAT VPC's tasks could not pull.
    [...core.egressOnly, "connect-to-awsApis0-443", "analytics-to-awsApis0-443"],
  ),
  endpoints: {
    databaseHost: `cdc-pipeline-pr-42.abc.${REGION}.rds.amazonaws.com`,
    databasePort: 5432,
    connectUrl: `http://internal-connect-lb.${REGION}.elb.amazonaws.com`,
  },
  bucketPrefix: "cdc-pipeline-pr-42-",
});
