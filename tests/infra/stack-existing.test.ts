// An existing VPC and database, MSK Serverless, and the AWS-only first phase of a tunnelled
// deployment (`inClusterResources: false`): no database/Kafka objects, no connectors, no workers.
import { REGION } from "./harness";
import { stackSuite } from "./stack-suite";

stackSuite({
  stack: "shared",
  config: {
    "aws:region": REGION,
    "cdc-pipeline:existingVpcId": "vpc-0abc1234def567890",
    "cdc-pipeline:existingPrivateSubnetIds": '["subnet-0aaa1111bbb22222c", "subnet-0ddd3333eee44444f"]',
    "cdc-pipeline:existingPrivateRouteTableIds": '["rtb-0123456789abcdef0"]',
    "cdc-pipeline:existingDatabase":
      '{"host": "orders.cluster-xyz.eu-west-1.rds.amazonaws.com", "port": 5432, "masterSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-admin-Ab12Cd", "securityGroupId": "sg-0fedcba9876543210"}',
    "cdc-pipeline:databaseName": "orders",
    "cdc-pipeline:kafkaMode": "serverless",
    "cdc-pipeline:tunnelHost": "true",
    "cdc-pipeline:inClusterResources": "false",
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
    inCluster: false,
  },
  kafka: { brokers: 0, replicationFactor: 3, partitions: 3, retentionHours: 168 },
  connect: { desired: 2, min: 1, max: 4, cpu: "1024", memory: "4096" },
  kms: false,
  createCommerceTables: true,
  logRetentionDays: 30,
  alarmEmails: [],
  schedule: "rate(1 hour)",
  securityGroupRules: [
    ...[
      "connect-to-database-5432",
      "connect-to-kafka-9098",
      "connect-to-connect-8083",
      "connectLb-to-connect-8083",
      "tunnel-to-database-5432",
      "tunnel-to-kafka-9098",
      "tunnel-to-connectLb-80",
    ].flatMap((n) => [`${n}-in`, `${n}-out`]),
    "vpc-to-connectLb-80-in",
    "connect-to-s3-443-out",
    "analytics-to-s3-443-out",
  ],
  endpoints: undefined,
  bucketPrefix: "cdc-pipeline-shared-",
  existingDatabaseGroupId: "sg-0fedcba9876543210",
});
