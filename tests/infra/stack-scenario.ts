/* eslint-disable @typescript-eslint/no-explicit-any -- mock inputs are untyped JSON-like data */
// What a stack scenario must produce, as data: the scenario files (stack-dev, stack-prod, ...) fill
// it in, `expectedResources` turns its features into the exact list of resources and parents, and
// `mockValues` gives the values the mocks hand out for it (harness.ts).
import { readFileSync } from "node:fs";
import { CA_BUNDLE_ENV } from "../../infra/database-tls";
import { ACCOUNT, REGION, SECRET_VALUES, json, type StackRun } from "./harness";

export interface Scenario {
  stack: string;
  config: Record<string, string>;
  ephemeral: boolean;
  /** What the stack is made of; `expectedResources` turns it into the exact resource list. */
  features: Features;
  rds?: {
    instanceClass: string;
    allocatedStorage: number;
    maxAllocatedStorage: number;
    multiAz: boolean;
    backupRetentionPeriod: number;
    maxSlotWalKeepSizeMb: number;
  };
  kafka: {
    brokers: number;
    /** Provisioned brokers' instance type and volume (GiB). */
    instanceType?: string;
    volumeGb?: number;
    replicationFactor: number;
    partitions: number;
    retentionHours: number;
  };
  connect: { desired: number; min: number; max: number; cpu: string; memory: string; https: boolean };
  kms: boolean;
  createCommerceTables: boolean;
  logRetentionDays: number;
  alarmEmails: string[];
  /** Alarm thresholds; `databaseIdentifier` is what the RDS alarms watch (none: no RDS alarms). */
  alarms: {
    databaseIdentifier?: string;
    slotLagBytes: number;
    walDiskBytes: number;
    freeStorageBytes: number;
    kafkaDiskPercent: number;
  };
  schedule: string;
  /** The no-successful-run alarm's period: the schedule's longest gap between runs, in seconds. */
  heartbeatPeriodSeconds: number;
  /**
   * The S3 sink's `rotate.schedule.interval.ms` (it then also gets `timezone=UTC`); undefined: no
   * scheduled rotation (`sinkRotateScheduleMinutes: 0`), or no connectors at all.
   */
  sinkRotateScheduleMs: number | undefined;
  /** Security group rule resource names (without the `network-` prefix). */
  securityGroupRules: string[];
  /** Where Pulumi reaches the database, the brokers (default: MSK's) and Connect (in-cluster only). */
  endpoints:
    | {
        databaseHost: string;
        databasePort: number;
        connectUrl: string;
        kafkaBootstrapServers?: string[];
        /** The postgresql provider's sslmode. Defaults to "require". */
        sslMode?: string;
      }
    | undefined;
  bucketPrefix: string;
  /** Security group of an existing database (rules are added to it). */
  existingDatabaseGroupId?: string;
}

export interface Features {
  /** New VPC (with interface endpoints) or an existing one. */
  newVpc: boolean;
  azCount: number;
  tunnelHost: boolean;
  /** New RDS instance (else an existing database). */
  rds: boolean;
  /** Provisioned broker count (0 for serverless). */
  brokers: number;
  kms: boolean;
  ephemeral: boolean;
  alarmEmails: number;
  /** RDS alarms (a new instance, or an existing one with an instance identifier). */
  rdsAlarms: boolean;
  /** postgresql/kafka resources (inClusterResources). */
  inCluster: boolean;
  /** The two connectors (in-cluster stacks with connectorsEnabled). */
  connectors: boolean;
}

/** `name-in`/`name-out` rule names for flows between two groups (`both`) or one side only. */
export function ruleNames(both: string[], ingressOnly: string[] = [], egressOnly: string[] = []): string[] {
  return [
    ...both.flatMap((n) => [`${n}-in`, `${n}-out`]),
    ...ingressOnly.map((n) => `${n}-in`),
    ...egressOnly.map((n) => `${n}-out`),
  ];
}

/**
 * The flows every stack has, by the rule names they render to; with `connectorHealth` (stacks that
 * deploy the connectors) the health check reaches the listener on `lbPort`.
 */
export function coreRules(
  lbPort: number,
  connectorHealth = false,
): { both: string[]; ingressOnly: string[]; egressOnly: string[] } {
  return {
    both: [
      "connect-to-database-5432",
      "connect-to-kafka-9098",
      "connect-to-connect-8083",
      "connectLb-to-connect-8083",
      ...(connectorHealth ? [`health-to-connectLb-${lbPort}`] : []),
    ],
    // The REST listener is open to the tunnel host and the deployer CIDRs only, never the VPC.
    ingressOnly: [],
    egressOnly: ["connect-to-s3-443", "analytics-to-s3-443"],
  };
}

/** The source database as the workers see it: the new RDS instance or `existingDatabase`. */
export function sourceDatabase(s: Scenario): {
  host: string;
  port: number;
  name: string;
  masterSecretArn: string;
} {
  const existing = s.config["cdc-pipeline:existingDatabase"];
  const name = s.config["cdc-pipeline:databaseName"] ?? "app";
  if (!existing) {
    const m = mockValues(s);
    return { host: m.rdsHost, port: 5432, name, masterSecretArn: m.rdsMasterSecretArn };
  }
  const parsed = JSON.parse(existing) as { host: string; port?: number; masterSecretArn: string };
  return { host: parsed.host, port: parsed.port ?? 5432, name, masterSecretArn: parsed.masterSecretArn };
}

/**
 * The master-user connection Pulumi's own database resources (the DDL, NewTableSnapshots) receive as a
 * secret: the configured endpoint, the stack's sslmode, and with verify-ca/verify-full the CAs the
 * scenario points CDC_DATABASE_CA_BUNDLE at.
 */
export function adminConnection(s: Scenario): Record<string, unknown> {
  const endpoints = s.endpoints;
  if (!endpoints) throw new Error(`stack ${s.stack} has no in-cluster endpoints`);
  return {
    host: endpoints.databaseHost,
    port: endpoints.databasePort,
    database: sourceDatabase(s).name,
    user: "cdc_admin",
    password: SECRET_VALUES.masterPassword,
    sslMode: endpoints.sslMode ?? "require",
    ...(endpoints.sslMode?.startsWith("verify")
      ? { caBundle: readFileSync(String(process.env[CA_BUNDLE_ENV]), "utf8") }
      : {}),
  };
}

/** The names the mocks give a scenario's resources (harness.ts `computedState`). */
export function mockValues(s: Scenario) {
  const clusterId = `cdc-pipeline-${s.stack}/0a1b2c3d-uuid-1`;
  const bucket = `${s.bucketPrefix}4f2a9c`;
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  return {
    bucket,
    bucketArn: `arn:aws:s3:::${bucket}`,
    kafkaClusterArn: arn("kafka", `cluster/${clusterId}`),
    kafkaTopicArn: (t: string) => arn("kafka", `topic/${clusterId}/${t}`),
    kafkaGroupArn: (g: string) => arn("kafka", `group/${clusterId}/${g}`),
    bootstrapBrokers:
      "b-1.mock.kafka.eu-west-1.amazonaws.com:9098,b-2.mock.kafka.eu-west-1.amazonaws.com:9098",
    rdsHost: `cdc-pipeline-${s.stack}.abc.${REGION}.rds.amazonaws.com`,
    rdsMasterSecretArn: arn("secretsmanager", "secret:rds!db-master-AbCdEf"),
    cdcSecretArn: arn("secretsmanager", "secret:cdc-credentials-secret-Xy12Zw"),
    cdcSecretName: `cdc-pipeline/${s.stack}/cdc_connector-Xy12Zw`,
    kmsKeyArn: arn("mock", "aws:kms/key:Key/storage-key"),
    ecsClusterName: "connect-cluster-7e1",
    ecsClusterArn: arn("ecs", "cluster/connect-cluster-7e1"),
    connectServiceName: "connect-service-9d2",
    scd2TaskDefinitionArn: arn("ecs", `task-definition/cdc-pipeline-${s.stack}-scd2:1`),
    alarmTopicArn: arn("mock", "aws:sns/topic:Topic/observability-alarms"),
    failedRunsRuleArn: arn("mock", "aws:cloudwatch/eventRule:EventRule/observability-scd2-failed"),
    succeededRunsRuleArn: arn("mock", "aws:cloudwatch/eventRule:EventRule/observability-scd2-succeeded"),
    runsQueueArn: arn("sqs", "observability-scd2-runs"),
    deadLetterQueueArn: arn("sqs", "analytics-undelivered"),
    roleArn: (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`,
    connectLbHost: `internal-connect-lb.${REGION}.elb.amazonaws.com`,
  };
}

/** A new VPC, or an existing one with route tables given, gets the stack's S3 gateway endpoint. */
export function hasS3GatewayEndpoint(s: Scenario): boolean {
  const tables = s.config["cdc-pipeline:existingPrivateRouteTableIds"];
  return s.features.newVpc || (tables !== undefined && (JSON.parse(tables) as string[]).length > 0);
}

export function subnetIds(s: Scenario): string[] {
  const existing = s.config["cdc-pipeline:existingPrivateSubnetIds"];
  if (existing) return JSON.parse(existing) as string[];
  return Array.from({ length: s.features.azCount }, (_, i) => `network-private-${i}-id`);
}

export function topicNames(s: Scenario): string[] {
  return [
    "cdc.commerce.products",
    "cdc.commerce.users",
    "__debezium-heartbeat.cdc",
    "cdc.commerce.cdc_signal",
    ...["configs", "offsets", "status"].map((x) => `cdc-connect-${s.stack}-${x}`),
  ];
}

export function topicResourceName(topic: string): string {
  return `topics-${topic.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+/, "")}`;
}

/** Alarm resource names (without `observability-`), in the order the stack creates them. */
export function alarmKeys(s: Scenario): string[] {
  return [
    ...(s.features.rdsAlarms ? ["slot-lag", "wal-disk", "free-storage"] : []),
    ...Array.from({ length: s.features.brokers }, (_, i) => `kafka-disk-${i + 1}`),
    ...(s.features.inCluster ? ["connect-tasks"] : []),
    ...(s.features.connectors ? ["connectors-not-running"] : []),
    "schedule-errors",
    "scd2-heartbeat",
  ];
}

/**
 * Every resource the stack registers, as `parent type > type name` (`-` for the stack root), from
 * the scenario's features and security group rules. One block per component.
 */
export function expectedResources(s: Scenario): string[] {
  const f = s.features;
  const out: string[] = [];
  const under = (parent: string, entries: [string, string[]][]) => {
    for (const [type, names] of entries) for (const name of names) out.push(`${parent} > ${type} ${name}`);
  };
  const root = (type: string, name: string) => out.push(`- > ${type} ${name}`);
  const when = (condition: boolean, names: string[]) => (condition ? names : []);
  const azs = Array.from({ length: f.azCount }, (_, i) => `network-private-${i}`);

  root("cdc:network:Network", "network");
  const roles = [
    "connect",
    "connectLb",
    "analytics",
    "kafka",
    ...when(f.rds, ["database"]),
    ...when(f.newVpc, ["endpoints"]),
    ...when(f.tunnelHost, ["tunnel"]),
    ...when(f.connectors, ["health"]),
  ];
  const interfaceEndpoints = when(f.newVpc, [
    "ecr-api",
    "ecr-dkr",
    "logs",
    "secretsmanager",
    "glue",
    ...when(f.tunnelHost, ["ssm", "ssmmessages", "ec2messages"]),
  ]);
  const rules = s.securityGroupRules.map((r) => `network-${r}`);
  under("cdc:network:Network", [
    ["aws:ec2/vpc:Vpc", when(f.newVpc, ["network-vpc"])],
    ["aws:ec2/routeTable:RouteTable", when(f.newVpc, ["network-private"])],
    ["aws:ec2/subnet:Subnet", when(f.newVpc, azs)],
    ["aws:ec2/routeTableAssociation:RouteTableAssociation", when(f.newVpc, azs)],
    [
      "aws:ec2/vpcEndpoint:VpcEndpoint",
      [...when(hasS3GatewayEndpoint(s), ["network-s3"]), ...interfaceEndpoints.map((e) => `network-${e}`)],
    ],
    ["aws:ec2/securityGroup:SecurityGroup", roles.map((r) => `network-${r}`)],
    ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", rules.filter((r) => r.endsWith("-in"))],
    ["aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", rules.filter((r) => r.endsWith("-out"))],
  ]);
  if (f.tunnelHost) {
    root("cdc:network:TunnelHost", "tunnel");
    under("cdc:network:TunnelHost", [
      ["aws:iam/role:Role", ["tunnel-role"]],
      ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", ["tunnel-ssm"]],
      ["aws:iam/instanceProfile:InstanceProfile", ["tunnel-profile"]],
      ["aws:ec2/instance:Instance", ["tunnel-instance"]],
    ]);
  }

  root("cdc:storage:Storage", "storage");
  under("cdc:storage:Storage", [
    ["aws:s3/bucket:Bucket", ["storage-bucket"]],
    ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", ["storage-public-access"]],
    ["aws:s3/bucketOwnershipControls:BucketOwnershipControls", ["storage-ownership"]],
    ["aws:kms/key:Key", when(f.kms, ["storage-key"])],
    [
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      ["storage-encryption"],
    ],
    ["aws:s3/bucketVersioning:BucketVersioning", when(!f.ephemeral, ["storage-versioning"])],
    ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", ["storage-lifecycle"]],
    ["aws:s3/bucketPolicy:BucketPolicy", ["storage-policy"]],
  ]);

  if (f.rds) {
    root("cdc:database:Database", "database");
    under("cdc:database:Database", [
      ["aws:rds/subnetGroup:SubnetGroup", ["database-subnets"]],
      ["aws:rds/parameterGroup:ParameterGroup", ["database-params"]],
      ["aws:rds/instance:Instance", ["database-instance"]],
    ]);
  }

  root("cdc:kafka:Kafka", "kafka");
  under(
    "cdc:kafka:Kafka",
    f.brokers > 0
      ? [
          ["aws:msk/configuration:Configuration", ["kafka-config"]],
          ["aws:cloudwatch/logGroup:LogGroup", ["kafka-brokers"]],
          ["aws:msk/cluster:Cluster", ["kafka-cluster"]],
        ]
      : [["aws:msk/serverlessCluster:ServerlessCluster", ["kafka-cluster"]]],
  );

  root("cdc:database:CdcCredentials", "cdc-credentials");
  under("cdc:database:CdcCredentials", [
    ["random:index/randomPassword:RandomPassword", ["cdc-credentials-password"]],
    ["aws:secretsmanager/secret:Secret", ["cdc-credentials-secret"]],
    ["aws:secretsmanager/secretVersion:SecretVersion", ["cdc-credentials-secret-value"]],
  ]);

  // Connect and analytics each: repository + lifecycle + image, log group, execution and task roles.
  const imageAndRoles = (part: string, image: string, logGroup: string): [string, string[]][] => [
    ["aws:ecr/repository:Repository", [`${part}-${image}-repo`]],
    ["aws:ecr/lifecyclePolicy:LifecyclePolicy", [`${part}-${image}-repo-lifecycle`]],
    ["docker:index/image:Image", [`${part}-${image}-image`]],
    ["aws:cloudwatch/logGroup:LogGroup", [`${part}-${logGroup}`]],
    ["aws:iam/role:Role", [`${part}-execution`, `${part}-task`]],
    ["aws:iam/rolePolicy:RolePolicy", [`${part}-execution`, `${part}-task`]],
    ["aws:ecs/taskDefinition:TaskDefinition", [`${part}-task`]],
  ];
  root("cdc:connect:Connect", "connect");
  under("cdc:connect:Connect", [
    ...imageAndRoles("connect", "worker", "workers"),
    ["aws:ecs/cluster:Cluster", ["connect-cluster"]],
    ["aws:lb/loadBalancer:LoadBalancer", ["connect-lb"]],
    ["aws:lb/targetGroup:TargetGroup", ["connect-workers"]],
    ["aws:lb/listener:Listener", ["connect-rest"]],
    ["aws:ecs/service:Service", ["connect-service"]],
    ["aws:appautoscaling/target:Target", when(f.inCluster, ["connect-scaling"])],
    ["aws:appautoscaling/policy:Policy", when(f.inCluster, ["connect-cpu"])],
  ]);
  root("cdc:analytics:Analytics", "analytics");
  under("cdc:analytics:Analytics", [
    ...imageAndRoles("analytics", "job", "job"),
    ["aws:iam/role:Role", ["analytics-scheduler"]],
    ["aws:iam/rolePolicy:RolePolicy", ["analytics-scheduler"]],
    ["aws:scheduler/schedule:Schedule", ["analytics-schedule"]],
    ["aws:sqs/queue:Queue", ["analytics-undelivered"]],
  ]);

  root("cdc:catalog:Catalog", "catalog");
  under("cdc:catalog:Catalog", [
    ["aws:glue/catalogDatabase:CatalogDatabase", ["catalog-database"]],
    [
      "aws:glue/catalogTable:CatalogTable",
      ["products", "users"].flatMap((t) => [`catalog-${t}`, `catalog-${t}_current`, `catalog-${t}_history`]),
    ],
    ["aws:s3/bucket:Bucket", ["catalog-results"]],
    ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", ["catalog-results-public-access"]],
    ["aws:s3/bucketOwnershipControls:BucketOwnershipControls", ["catalog-results-ownership"]],
    [
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      ["catalog-results-encryption"],
    ],
    ["aws:s3/bucketPolicy:BucketPolicy", ["catalog-results-policy"]],
    ["aws:s3/bucketVersioning:BucketVersioning", when(!f.ephemeral, ["catalog-results-versioning"])],
    ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", ["catalog-results-lifecycle"]],
    ["aws:athena/workgroup:Workgroup", ["catalog-workgroup"]],
    ["aws:iam/role:Role", ["catalog-analyst"]],
    ["aws:iam/rolePolicy:RolePolicy", ["catalog-analyst"]],
  ]);

  root("cdc:observability:Observability", "observability");
  under("cdc:observability:Observability", [
    ["aws:sns/topic:Topic", ["observability-alarms"]],
    ["aws:sns/topicPolicy:TopicPolicy", ["observability-alarms"]],
    [
      "aws:sns/topicSubscription:TopicSubscription",
      Array.from({ length: f.alarmEmails }, (_, i) => `observability-email-${i}`),
    ],
    ["aws:cloudwatch/metricAlarm:MetricAlarm", alarmKeys(s).map((k) => `observability-${k}`)],
    ["aws:cloudwatch/eventRule:EventRule", ["observability-scd2-failed", "observability-scd2-succeeded"]],
    ["aws:cloudwatch/eventTarget:EventTarget", ["observability-scd2-failed", "observability-scd2-succeeded"]],
    ["aws:sqs/queue:Queue", ["observability-scd2-runs"]],
    ["aws:sqs/queuePolicy:QueuePolicy", ["observability-scd2-runs"]],
    ["aws:cloudwatch/dashboard:Dashboard", ["observability-dashboard"]],
  ]);

  if (f.inCluster) {
    root("pulumi:providers:postgresql", "postgres");
    root("pulumi:providers:kafka", "kafka");
    root("cdc:kafka:KafkaTopics", "topics");
    under("cdc:kafka:KafkaTopics", [["kafka:index/topic:Topic", topicNames(s).map(topicResourceName)]]);
    root("cdc:database:CdcObjects", "cdc-objects");
    under("cdc:database:CdcObjects", [
      ["pulumi-nodejs:dynamic/cdc:SqlStatements", ["cdc-objects-ddl"]],
      ["postgresql:index/role:Role", ["cdc-objects-role"]],
      [
        "postgresql:index/grant:Grant",
        [
          "cdc-objects-grant-schema-commerce-usage",
          "cdc-objects-grant-table-commerce-products-users",
          "cdc-objects-grant-table-commerce-cdc_heartbeat",
          // Debezium writes its incremental snapshots' watermarks into the signalling table.
          "cdc-objects-grant-table-commerce-cdc_signal",
        ],
      ],
      ["postgresql:index/publication:Publication", ["cdc-objects-publication"]],
      ["postgresql:index/replicationSlot:ReplicationSlot", ["cdc-objects-slot"]],
    ]);
  }
  if (f.connectors) {
    root("cdc:connect:PipelineConnectors", "connectors");
    under("cdc:connect:PipelineConnectors", [
      ["pulumi-nodejs:dynamic/connect:KafkaConnector", ["connectors-source", "connectors-sink"]],
    ]);
    root("pulumi-nodejs:dynamic/signals:NewTableSnapshots", "new-table-snapshots");
    root("cdc:connect:ConnectorHealth", "connector-health");
    under("cdc:connect:ConnectorHealth", [
      ["aws:cloudwatch/logGroup:LogGroup", ["connector-health-check"]],
      ["aws:iam/role:Role", ["connector-health-check"]],
      ["aws:iam/rolePolicy:RolePolicy", ["connector-health-check"]],
      ["aws:lambda/function:Function", ["connector-health-check"]],
      ["aws:cloudwatch/eventRule:EventRule", ["connector-health-check"]],
      ["aws:lambda/permission:Permission", ["connector-health-check"]],
      ["aws:cloudwatch/eventTarget:EventTarget", ["connector-health-check"]],
    ]);
  }
  return out.sort();
}

export interface Statement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition?: unknown;
}

/** What every group of stack checks works with; `run()` is only valid inside tests. */
export interface StackContext {
  s: Scenario;
  m: ReturnType<typeof mockValues>;
  run(): StackRun;
  /** Inputs of the one resource of a type and name. */
  input(type: string, name: string): Record<string, any>;
  /** Statements of the inline role policy `name`. */
  policy(name: string): Statement[];
}

export function stackContext(s: Scenario, run: () => StackRun): StackContext {
  const input = (type: string, name: string) => run().one(type, name).inputs as Record<string, any>;
  return {
    s,
    m: mockValues(s),
    run,
    input,
    policy: (name) =>
      json<{ Statement: Statement[] }>(input("aws:iam/rolePolicy:RolePolicy", name).policy).Statement,
  };
}
