// The stack config validation cases: keys given (without the project prefix) and the exact
// problem(s) reported, one case per message the schema can give.

// The vpcCidr rule as the schema words it (it names the sizes its subnetting allows).
const VPC_CIDR_RULE =
  "must be an IPv4 CIDR block from /16 to /24 (its subnets are 4 bits smaller and AWS's smallest subnet is a /28), e.g. 10.42.0.0/16";

const SUBNETS = '["subnet-0aaa1111bbb22222c", "subnet-0aaa1111bbb22222d"]';

/** An `existingDatabase` value: a valid one with `changes` applied (undefined removes a key). */
export function existingDatabase(changes: Record<string, unknown>): string {
  return JSON.stringify({
    host: "orders.internal",
    masterSecretArn: "arn:aws:secretsmanager:eu-west-1:1:secret:x",
    securityGroupId: "sg-0fedcba9876543210",
    ...changes,
  });
}

// [keys, the problem(s) reported]
export const CASES: [Record<string, string>, string | string[]][] = [
  [{ ephemeral: "maybe" }, 'cdc-pipeline:ephemeral: must be true or false (got "maybe")'],
  // Only `true`/`false`, as every other reader of these keys (Pulumi, the delivery scripts) takes them.
  [{ ephemeral: "yes" }, 'cdc-pipeline:ephemeral: must be true or false (got "yes")'],
  [{ rdsMultiAz: "1" }, 'cdc-pipeline:rdsMultiAz: must be true or false (got "1")'],
  [{ storageKms: "on" }, 'cdc-pipeline:storageKms: must be true or false (got "on")'],
  [{ tunnelHost: "True" }, 'cdc-pipeline:tunnelHost: must be true or false (got "True")'],
  [{ tags: "team=x" }, 'cdc-pipeline:tags: must be a YAML/JSON value, not plain text (got "team=x")'],
  [{ tags: '["team"]' }, 'cdc-pipeline:tags: must be a map of tag names to string values (got ["team"])'],
  [{ tags: '{"a": 1}' }, "cdc-pipeline:tags.a: tag values must be strings (got 1)"],
  [
    { logRetentionDays: "10" },
    "cdc-pipeline:logRetentionDays: must be one of CloudWatch's retention periods: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got 10)",
  ],
  [{ logRetentionDays: "x" }, 'cdc-pipeline:logRetentionDays: must be a whole number (got "x")'],
  [{ vpcCidr: "10.0.0.0/8" }, `cdc-pipeline:vpcCidr: ${VPC_CIDR_RULE} (got "10.0.0.0/8")`],
  // A /25 would make /29 subnets, which AWS rejects.
  [{ vpcCidr: "10.0.0.0/25" }, `cdc-pipeline:vpcCidr: ${VPC_CIDR_RULE} (got "10.0.0.0/25")`],
  [{ vpcCidr: "10.0.0.0/28" }, `cdc-pipeline:vpcCidr: ${VPC_CIDR_RULE} (got "10.0.0.0/28")`],
  [{ vpcCidr: "10.300.0.0/16" }, `cdc-pipeline:vpcCidr: ${VPC_CIDR_RULE} (got "10.300.0.0/16")`],
  [
    { vpcCidr: "10.42.1.0/16" },
    'cdc-pipeline:vpcCidr: must start at its block\'s first address (10.42.0.0/16): AWS rejects host bits (got "10.42.1.0/16")',
  ],
  [{ availabilityZoneCount: "1" }, "cdc-pipeline:availabilityZoneCount: must be at least 2 (got 1)"],
  [{ availabilityZoneCount: "4" }, "cdc-pipeline:availabilityZoneCount: must be at most 3 (got 4)"],
  [
    { existingVpcId: "vpc-123", existingPrivateSubnetIds: SUBNETS },
    'cdc-pipeline:existingVpcId: must be a vpc-… id (got "vpc-123")',
  ],
  [
    { existingVpcId: "vpc-0abc1234def567890", existingPrivateSubnetIds: '["subnet-0aaa1111bbb22222c"]' },
    'cdc-pipeline:existingPrivateSubnetIds: must list at least two subnets in different AZs (got ["subnet-0aaa1111bbb22222c"])',
  ],
  [
    {
      existingVpcId: "vpc-0abc1234def567890",
      existingPrivateSubnetIds: '["subnet-1", "subnet-0aaa1111bbb22222d"]',
    },
    'cdc-pipeline:existingPrivateSubnetIds.0: must be a subnet-… id (got "subnet-1")',
  ],
  [
    { existingVpcId: "vpc-0abc1234def567890", existingPrivateSubnetIds: '"subnet-0aaa1111bbb22222c"' },
    'cdc-pipeline:existingPrivateSubnetIds: must be a list of subnet ids (got "subnet-0aaa1111bbb22222c")',
  ],
  [
    {
      existingVpcId: "vpc-0abc1234def567890",
      existingPrivateSubnetIds: SUBNETS,
      existingPrivateRouteTableIds: '"rtb-0123456789abcdef0"',
    },
    'cdc-pipeline:existingPrivateRouteTableIds: must be a list of route table ids (got "rtb-0123456789abcdef0")',
  ],
  [
    { existingVpcId: "vpc-0abc1234def567890" },
    "cdc-pipeline:existingPrivateSubnetIds: required when existingVpcId is set",
  ],
  [
    { existingPrivateSubnetIds: SUBNETS },
    "cdc-pipeline:existingVpcId: required when existingPrivateSubnetIds or existingPrivateRouteTableIds is set",
  ],
  [
    { existingVpcId: "vpc-0abc1234def567890", existingPrivateSubnetIds: SUBNETS, vpcCidr: "10.1.0.0/16" },
    "cdc-pipeline:vpcCidr: cannot be set together with existingVpcId",
  ],
  [
    {
      existingVpcId: "vpc-0abc1234def567890",
      existingPrivateSubnetIds: SUBNETS,
      existingVpcAwsApiCidrs: '["0.0.0.0"]',
    },
    'cdc-pipeline:existingVpcAwsApiCidrs.0: must be an IPv4 CIDR block, e.g. 10.0.0.0/16, or 0.0.0.0/0 behind a NAT gateway (got "0.0.0.0")',
  ],
  [
    {
      existingVpcId: "vpc-0abc1234def567890",
      existingPrivateSubnetIds: SUBNETS,
      existingVpcAwsApiCidrs: '"0.0.0.0/0"',
    },
    'cdc-pipeline:existingVpcAwsApiCidrs: must be a list of CIDR blocks (got "0.0.0.0/0")',
  ],
  [
    {
      existingVpcId: "vpc-0abc1234def567890",
      existingPrivateSubnetIds: SUBNETS,
      existingVpcAwsApiCidrs: "[]",
    },
    "cdc-pipeline:existingVpcAwsApiCidrs: must list at least one CIDR block (with none, the tasks cannot pull images or write logs) (got [])",
  ],
  [
    { existingVpcAwsApiCidrs: '["0.0.0.0/0"]' },
    "cdc-pipeline:existingVpcAwsApiCidrs: has no effect without existingVpcId (the VPC the stack creates has its own interface endpoints)",
  ],
  [
    { existingPrivateRouteTableIds: '["rtb-1"]' },
    'cdc-pipeline:existingPrivateRouteTableIds.0: must be a rtb-… id (got "rtb-1")',
  ],
  [
    { deployerCidrs: '["0.0.0.0/0"]' },
    'cdc-pipeline:deployerCidrs.0: must be an IPv4 CIDR block (/8 to /32), e.g. 10.200.0.0/24 (got "0.0.0.0/0")',
  ],
  [
    { deployerCidrs: "[10]" },
    "cdc-pipeline:deployerCidrs.0: must be an IPv4 CIDR block (/8 to /32), e.g. 10.200.0.0/24 (got 10)",
  ],
  [
    { deployerCidrs: '"10.0.0.0/8"' },
    'cdc-pipeline:deployerCidrs: must be a list of CIDR blocks (got "10.0.0.0/8")',
  ],
  [{ tunnelHost: "yes please" }, 'cdc-pipeline:tunnelHost: must be true or false (got "yes please")'],
  [
    { postgresVersion: "12" },
    'cdc-pipeline:postgresVersion: must be an RDS PostgreSQL major version, 14 or later, e.g. 17 (RDS applies minor versions itself) (got "12")',
  ],
  [
    // A minor version would be undone by RDS's automatic minor upgrades.
    { postgresVersion: "17.4" },
    'cdc-pipeline:postgresVersion: must be an RDS PostgreSQL major version, 14 or later, e.g. 17 (RDS applies minor versions itself) (got "17.4")',
  ],
  [
    { rdsInstanceClass: "m5.large" },
    'cdc-pipeline:rdsInstanceClass: must look like db.<family>.<size>, e.g. db.t4g.medium (got "m5.large")',
  ],
  [{ rdsAllocatedStorageGb: "10" }, "cdc-pipeline:rdsAllocatedStorageGb: must be at least 20 (got 10)"],
  [
    { rdsAllocatedStorageGb: "100", rdsMaxAllocatedStorageGb: "50" },
    "cdc-pipeline:rdsMaxAllocatedStorageGb: must be at least rdsAllocatedStorageGb (100)",
  ],
  [{ rdsMultiAz: "2" }, 'cdc-pipeline:rdsMultiAz: must be true or false (got "2")'],
  [{ rdsBackupRetentionDays: "0" }, "cdc-pipeline:rdsBackupRetentionDays: must be at least 1 (got 0)"],
  [{ maxSlotWalKeepSizeMb: "100" }, "cdc-pipeline:maxSlotWalKeepSizeMb: must be at least 1024 (got 100)"],
  [
    { databaseName: "My-DB" },
    'cdc-pipeline:databaseName: must be a lowercase PostgreSQL identifier (got "My-DB")',
  ],
  [
    {
      existingDatabase:
        '{"host": "", "masterSecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:x", "securityGroupId": "sg-0fedcba9876543210"}',
    },
    'cdc-pipeline:existingDatabase.host: must be a host name (got "")',
  ],
  [
    { existingDatabase: '"orders.internal"' },
    'cdc-pipeline:existingDatabase: must be a map {host, port, masterSecretArn, securityGroupId, instanceIdentifier} (got "orders.internal")',
  ],
  [
    { existingDatabase: existingDatabase({ port: "5432" }) },
    'cdc-pipeline:existingDatabase.port: must be a port number from 1 to 65535 (got "5432")',
  ],
  [
    { existingDatabase: existingDatabase({ port: 70000 }) },
    "cdc-pipeline:existingDatabase.port: must be a port number from 1 to 65535 (got 70000)",
  ],
  [
    { existingDatabase: existingDatabase({ masterSecretArn: undefined }) },
    "cdc-pipeline:existingDatabase.masterSecretArn: required",
  ],
  [
    { existingDatabase: existingDatabase({ instanceIdentifier: "Orders_DB" }) },
    'cdc-pipeline:existingDatabase.instanceIdentifier: must be an RDS instance identifier (lowercase letters, digits and -) (got "Orders_DB")',
  ],
  [
    { existingDatabase: existingDatabase({ user: "admin" }) },
    `cdc-pipeline:existingDatabase: unknown key "user" (host, port, masterSecretArn, securityGroupId, instanceIdentifier) (got ${JSON.stringify(JSON.parse(existingDatabase({ user: "admin" })))})`,
  ],
  [
    { existingDatabase: existingDatabase({}), rdsInstanceClass: "db.t4g.micro", rdsMultiAz: "true" },
    [
      "cdc-pipeline:rdsInstanceClass: has no effect with existingDatabase (it configures the RDS instance the stack would create)",
      "cdc-pipeline:rdsMultiAz: has no effect with existingDatabase (it configures the RDS instance the stack would create)",
    ],
  ],
  [
    {
      existingDatabase:
        '{"host": "db", "masterSecretArn": "nope", "securityGroupId": "sg-0fedcba9876543210"}',
    },
    'cdc-pipeline:existingDatabase.masterSecretArn: must be a Secrets Manager ARN (arn:aws:secretsmanager:…) (got "nope")',
  ],
  [
    {
      existingDatabase:
        '{"host": "db", "masterSecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:x", "securityGroupId": "sg-1"}',
    },
    'cdc-pipeline:existingDatabase.securityGroupId: must be a sg-… id (got "sg-1")',
  ],
  [
    { createCommerceTables: "sometimes" },
    'cdc-pipeline:createCommerceTables: must be true or false (got "sometimes")',
  ],
  [{ kafkaMode: "managed" }, 'cdc-pipeline:kafkaMode: must be provisioned or serverless (got "managed")'],
  [
    { kafkaVersion: "3.6.0" },
    'cdc-pipeline:kafkaVersion: must be an MSK Kafka version 3.7 or later, e.g. 3.9.x (got "3.6.0")',
  ],
  [
    { kafkaBrokerInstanceType: "m5.large" },
    'cdc-pipeline:kafkaBrokerInstanceType: must look like kafka.<family>.<size> (got "m5.large")',
  ],
  [
    { kafkaMode: "serverless", kafkaBrokerInstanceType: "kafka.m7g.large", kafkaDiskAlarmPercent: "70" },
    [
      "cdc-pipeline:kafkaBrokerInstanceType: has no effect with kafkaMode serverless (it configures provisioned brokers)",
      "cdc-pipeline:kafkaDiskAlarmPercent: has no effect with kafkaMode serverless (it configures provisioned brokers)",
    ],
  ],
  [{ kafkaBrokersPerAz: "0" }, "cdc-pipeline:kafkaBrokersPerAz: must be at least 1 (got 0)"],
  [{ kafkaBrokerVolumeGb: "5" }, "cdc-pipeline:kafkaBrokerVolumeGb: must be at least 10 (got 5)"],
  [{ topicPartitions: "0" }, "cdc-pipeline:topicPartitions: must be at least 1 (got 0)"],
  [
    { topicReplicationFactor: "3" },
    "cdc-pipeline:topicReplicationFactor: must not exceed the broker count (2)",
  ],
  [
    { kafkaMode: "serverless", topicReplicationFactor: "2" },
    "cdc-pipeline:topicReplicationFactor: must be 3 with kafkaMode serverless (MSK Serverless fixes it)",
  ],
  [{ topicRetentionHours: "0" }, "cdc-pipeline:topicRetentionHours: must be at least 1 (got 0)"],
  [
    { connectDesiredCount: "5" },
    "cdc-pipeline:connectDesiredCount: must be between connectMinCount (1) and connectMaxCount (4)",
  ],
  [
    { connectMinCount: "3", connectMaxCount: "2", connectDesiredCount: "2" },
    [
      "cdc-pipeline:connectMinCount: must not exceed connectMaxCount (2)",
      "cdc-pipeline:connectDesiredCount: must be between connectMinCount (3) and connectMaxCount (2)",
    ],
  ],
  [
    { connectCpu: "300" },
    'cdc-pipeline:connectCpu: must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384 (got "300")',
  ],
  [
    { connectMemory: "1024" },
    "cdc-pipeline:connectMemory: 1024 MiB is not a Fargate memory size for connectCpu 1024",
  ],
  [{ connectCpuTargetPercent: "99" }, "cdc-pipeline:connectCpuTargetPercent: must be at most 95 (got 99)"],
  [
    { connectCertificateArn: "arn:aws:iam::1:cert" },
    'cdc-pipeline:connectCertificateArn: must be an ACM certificate ARN (arn:aws:acm:…) (got "arn:aws:iam::1:cert")',
  ],
  [{ connectorsEnabled: "nah" }, 'cdc-pipeline:connectorsEnabled: must be true or false (got "nah")'],
  [
    { bucketName: "My_Bucket" },
    'cdc-pipeline:bucketName: must be a valid S3 bucket name (3-63 lowercase letters, digits, . and -) (got "My_Bucket")',
  ],
  [
    { topicsDir: "a/b" },
    'cdc-pipeline:topicsDir: must be one path segment (letters, digits, _ and -) (got "a/b")',
  ],
  [
    { analyticsPrefix: "x y" },
    'cdc-pipeline:analyticsPrefix: must be one path segment (letters, digits, _ and -) (got "x y")',
  ],
  [
    { analyticsPrefix: "cdc_data" },
    "cdc-pipeline:analyticsPrefix: must differ from topicsDir (raw change files and SCD2 output are kept apart)",
  ],
  [{ rawInfrequentAccessDays: "7" }, "cdc-pipeline:rawInfrequentAccessDays: must be at least 30 (got 7)"],
  [
    { sinkRotateScheduleMinutes: "10m" },
    'cdc-pipeline:sinkRotateScheduleMinutes: must be a whole number of minutes from 1 to 1440 (one day), or 0 to turn scheduled rotation off (got "10m")',
  ],
  [
    { sinkRotateScheduleMinutes: "-5" },
    'cdc-pipeline:sinkRotateScheduleMinutes: must be a whole number of minutes from 1 to 1440 (one day), or 0 to turn scheduled rotation off (got "-5")',
  ],
  [
    { sinkRotateScheduleMinutes: "1441" },
    "cdc-pipeline:sinkRotateScheduleMinutes: must be a whole number of minutes from 1 to 1440 (one day), or 0 to turn scheduled rotation off (got 1441)",
  ],
  [{ storageKms: "on-ish" }, 'cdc-pipeline:storageKms: must be true or false (got "on-ish")'],
  [
    { analyticsSchedule: "every hour" },
    'cdc-pipeline:analyticsSchedule: must be an EventBridge Scheduler expression: rate(<n> <unit>) or cron(<6 fields>) (got "every hour")',
  ],
  [
    { analyticsSchedule: "cron(0 6 1 * ? *)" },
    'cdc-pipeline:analyticsSchedule: must run at regular gaps the no-successful-run alarm can watch: this one restricts day-of-month, month or year, so its runs are irregular; use rate(<n> days) or days of the week (got "cron(0 6 1 * ? *)")',
  ],
  [
    { analyticsSchedule: "cron(0 L * * ? *)" },
    'cdc-pipeline:analyticsSchedule: must run at regular gaps the no-successful-run alarm can watch: this one has a minute, hour or day-of-week field this stack cannot read (got "cron(0 L * * ? *)")',
  ],
  [
    { analyticsSchedule: "rate(4 days)" },
    'cdc-pipeline:analyticsSchedule: must run at least every 84 hours (the no-successful-run alarm watches two gaps, CloudWatch at most 7 days) (got "rate(4 days)")',
  ],
  [
    { analyticsScheduleTimezone: "Europe Paris" },
    'cdc-pipeline:analyticsScheduleTimezone: must be an IANA time zone, e.g. UTC (got "Europe Paris")',
  ],
  [
    { analyticsCpu: "3" },
    'cdc-pipeline:analyticsCpu: must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384 (got "3")',
  ],
  [{ scd2EphemeralStorageGiB: "20" }, "cdc-pipeline:scd2EphemeralStorageGiB: must be at least 21 (got 20)"],
  [{ scd2EphemeralStorageGiB: "201" }, "cdc-pipeline:scd2EphemeralStorageGiB: must be at most 200 (got 201)"],
  [
    { analyticsMemory: "512" },
    "cdc-pipeline:analyticsMemory: 512 MiB is not a Fargate memory size for analyticsCpu 1024",
  ],
  [
    { alarmEmails: '{"ops": "ops@example.com"}' },
    'cdc-pipeline:alarmEmails: must be a list of e-mail addresses (got {"ops":"ops@example.com"})',
  ],
  [{ alarmEmails: '["ops"]' }, 'cdc-pipeline:alarmEmails.0: must be an e-mail address (got "ops")'],
  [
    { alarmEmails: "ops@example.com" },
    'cdc-pipeline:alarmEmails: must be a YAML/JSON value, not plain text (got "ops@example.com")',
  ],
  [{ slotLagAlarmBytes: "1000" }, "cdc-pipeline:slotLagAlarmBytes: must be at least 1048576 (got 1000)"],
  [{ freeStorageAlarmBytes: "-1" }, "cdc-pipeline:freeStorageAlarmBytes: must be at least 1048576 (got -1)"],
  [{ kafkaDiskAlarmPercent: "100" }, "cdc-pipeline:kafkaDiskAlarmPercent: must be at most 99 (got 100)"],
  [{ inClusterResources: "no way" }, 'cdc-pipeline:inClusterResources: must be true or false (got "no way")'],
  [
    { databaseEndpoint: "localhost" },
    'cdc-pipeline:databaseEndpoint: must be host:port, e.g. localhost:15432 (got "localhost")',
  ],
  [
    { kafkaBootstrapServers: "b-1:9098;b-2:9098" },
    'cdc-pipeline:kafkaBootstrapServers: must be a comma-separated list of host:port (got "b-1:9098;b-2:9098")',
  ],
  [
    { connectUrl: "localhost:8083" },
    'cdc-pipeline:connectUrl: must be an http(s) URL, e.g. http://localhost:18083 (got "localhost:8083")',
  ],
  [
    { databaseSslMode: "disable" },
    'cdc-pipeline:databaseSslMode: must be require, verify-ca or verify-full (got "disable")',
  ],
  [
    { rdsInstanceClas: "db.t4g.micro" },
    "cdc-pipeline:rdsInstanceClas: unknown key (see docs/deploy.md for the keys this stack reads)",
  ],
];
