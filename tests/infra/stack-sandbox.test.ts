// An ephemeral stack on an existing database (no instance identifier: no RDS alarms) and MSK
// Serverless, with every endpoint Pulumi uses overridden (tunnels on localhost): the in-cluster
// resources against an existing database and serverless topics, with the connectors left out.
import { join } from "node:path";
import { CA_BUNDLE_ENV } from "../../infra/database-tls";
import { REGION, ROOT } from "./harness";
import { stackSuite } from "./stack-suite";
import { coreRules, ruleNames } from "./stack-scenario";

const core = coreRules(80);
// verify-ca: the CAs come from this file instead of AWS's trust store (no network in tests).
process.env[CA_BUNDLE_ENV] = join(ROOT, "tests/fixtures/tls/test-ca.pem");

stackSuite({
  stack: "sandbox",
  config: {
    "aws:region": REGION,
    "cdc-pipeline:ephemeral": "true",
    "cdc-pipeline:existingDatabase":
      '{"host": "sandbox-db.internal", "port": 6432, "masterSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sandbox-admin-Zz99Yy", "securityGroupId": "sg-0123456789abcdef0"}',
    "cdc-pipeline:databaseName": "shop",
    "cdc-pipeline:kafkaMode": "serverless",
    "cdc-pipeline:databaseEndpoint": "localhost:25432",
    "cdc-pipeline:kafkaBootstrapServers": "localhost:29098,localhost:29099",
    "cdc-pipeline:connectUrl": "http://localhost:28083",
    "cdc-pipeline:databaseSslMode": "verify-ca",
    "cdc-pipeline:connectorsEnabled": "false",
    "cdc-pipeline:alarmEmails": '["sandbox@example.com"]',
  },
  ephemeral: true,
  features: {
    newVpc: true,
    azCount: 2,
    tunnelHost: false,
    rds: false,
    brokers: 0,
    kms: false,
    ephemeral: true,
    alarmEmails: 1,
    rdsAlarms: false,
    inCluster: true,
    connectors: false,
  },
  kafka: { brokers: 0, replicationFactor: 3, partitions: 3, retentionHours: 168 },
  connect: { desired: 2, min: 1, max: 4, cpu: "1024", memory: "4096", https: false },
  kms: false,
  createCommerceTables: true,
  logRetentionDays: 3,
  alarmEmails: ["sandbox@example.com"],
  alarms: {
    slotLagBytes: 1073741824,
    walDiskBytes: 8589934592,
    freeStorageBytes: 10737418240,
    kafkaDiskPercent: 80,
  },
  schedule: "rate(1 hour)",
  heartbeatPeriodSeconds: 3600,
  sinkRotateScheduleMs: undefined, // no connectors
  securityGroupRules: ruleNames(
    [...core.both, "connect-to-endpoints-443", "analytics-to-endpoints-443"],
    core.ingressOnly,
    core.egressOnly,
  ),
  endpoints: {
    databaseHost: "localhost",
    databasePort: 25432,
    connectUrl: "http://localhost:28083",
    kafkaBootstrapServers: ["localhost:29098", "localhost:29099"],
    sslMode: "verify-ca",
  },
  bucketPrefix: "cdc-pipeline-sandbox-",
  existingDatabaseGroupId: "sg-0123456789abcdef0",
});
