// An existing VPC (reaching AWS APIs through its NAT gateway) and database, MSK Serverless, an
// HTTPS Connect listener, and the AWS-only first phase of a tunnelled deployment
// (`inClusterResources: false`): no database/Kafka objects, no connectors, no workers.
import { REGION } from "./harness";
import { stackSuite } from "./stack-suite";
import { coreRules, ruleNames } from "./stack-scenario";

const core = coreRules(443);

stackSuite({
  stack: "shared",
  config: {
    "aws:region": REGION,
    "cdc-pipeline:existingVpcId": "vpc-0abc1234def567890",
    "cdc-pipeline:existingPrivateSubnetIds": '["subnet-0aaa1111bbb22222c", "subnet-0ddd3333eee44444f"]',
    "cdc-pipeline:existingPrivateRouteTableIds": '["rtb-0123456789abcdef0"]',
    "cdc-pipeline:existingVpcAwsApiCidrs": '["0.0.0.0/0"]',
    "cdc-pipeline:existingDatabase":
      '{"host": "orders.cluster-xyz.eu-west-1.rds.amazonaws.com", "port": 5432, "masterSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-admin-Ab12Cd", "securityGroupId": "sg-0fedcba9876543210", "instanceIdentifier": "orders"}',
    "cdc-pipeline:databaseName": "orders",
    "cdc-pipeline:kafkaMode": "serverless",
    "cdc-pipeline:tunnelHost": "true",
    "cdc-pipeline:inClusterResources": "false",
    "cdc-pipeline:connectCertificateArn":
      "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
  },
  ephemeral: false,
  features: {
    newVpc: false,
    azCount: 2,
    tunnelHost: true,
    rds: false,
    brokers: 0,
    kms: false,
    ephemeral: false,
    alarmEmails: 0,
    rdsAlarms: true,
    inCluster: false,
    connectors: false,
  },
  kafka: { brokers: 0, replicationFactor: 3, partitions: 3, retentionHours: 168 },
  connect: { desired: 2, min: 1, max: 4, cpu: "1024", memory: "4096", https: true },
  kms: false,
  createCommerceTables: true,
  logRetentionDays: 30,
  alarmEmails: [],
  alarms: {
    databaseIdentifier: "orders",
    slotLagBytes: 1073741824,
    walDiskBytes: 8589934592,
    freeStorageBytes: 10737418240,
    kafkaDiskPercent: 80,
  },
  schedule: "rate(1 hour)",
  heartbeatPeriodSeconds: 3600,
  sinkRotateScheduleMs: undefined, // no connectors
  securityGroupRules: ruleNames(
    [...core.both, "tunnel-to-database-5432", "tunnel-to-kafka-9098", "tunnel-to-connectLb-443"],
    core.ingressOnly,
    [
      ...core.egressOnly,
      // 443 to anywhere: ECR, Logs, Secrets Manager and SSM through the VPC's NAT gateway.
      "connect-to-awsApis0-443",
      "analytics-to-awsApis0-443",
      "tunnel-to-awsApis0-443",
    ],
  ),
  endpoints: undefined,
  bucketPrefix: "cdc-pipeline-shared-",
  existingDatabaseGroupId: "sg-0fedcba9876543210",
});
