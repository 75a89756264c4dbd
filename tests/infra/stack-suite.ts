/* eslint-disable @typescript-eslint/no-explicit-any -- mock inputs are untyped JSON-like data */
// The assertions every stack scenario runs, parameterized by what that scenario must produce.
// Each scenario file (stack-dev, stack-prod, stack-ephemeral, ...) runs the program once.
import type { PolicyResource } from "@pulumi/policy";
import { beforeAll, describe, expect, it } from "vitest";
import { resourcePolicies } from "../../infra/policy/resource-policies";
import { stackPolicies } from "../../infra/policy/stack-policies";
import {
  ACCOUNT,
  REGION,
  SECRET_VALUES,
  isSecret,
  json,
  plaintextLeaks,
  reveal,
  runStack,
  type Recorded,
  type StackRun,
} from "./harness";

export interface Scenario {
  stack: string;
  config: Record<string, string>;
  ephemeral: boolean;
  /** What the stack is made of; `expectedCounts` turns it into the exact resource counts. */
  features: Features;
  rds?: {
    instanceClass: string;
    multiAz: boolean;
    backupRetentionPeriod: number;
    maxSlotWalKeepSizeMb: number;
  };
  kafka: { brokers: number; replicationFactor: number; partitions: number; retentionHours: number };
  connect: { desired: number; min: number; max: number; cpu: string; memory: string };
  kms: boolean;
  createCommerceTables: boolean;
  logRetentionDays: number;
  alarmEmails: string[];
  schedule: string;
  /** Security group rule resource names (without the `network-` prefix). */
  securityGroupRules: string[];
  /** Where Pulumi reaches the database and Connect. */
  endpoints: { databaseHost: string; databasePort: number; connectUrl: string } | undefined;
  bucketPrefix: string;
  /** Security group of an existing database (rules are added to it). */
  existingDatabaseGroupId?: string;
}

/** Component type owning each resource, by the resource name's prefix. */
const OWNER_BY_PREFIX: [string, string][] = [
  ["cdc-credentials-", "cdc:database:CdcCredentials"],
  ["cdc-objects-", "cdc:database:CdcObjects"],
  ["network-", "cdc:network:Network"],
  ["tunnel-", "cdc:network:TunnelHost"],
  ["storage-", "cdc:storage:Storage"],
  ["database-", "cdc:database:Database"],
  ["kafka-", "cdc:kafka:Kafka"],
  ["topics-", "cdc:kafka:KafkaTopics"],
  ["connect-", "cdc:connect:Connect"],
  ["analytics-", "cdc:analytics:Analytics"],
  ["observability-", "cdc:observability:Observability"],
  ["connectors-", "cdc:connect:PipelineConnectors"],
];

export const BASE_ACTIONS = {
  ecrAuth: ["ecr:GetAuthorizationToken"],
  ecrPull: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
  logs: ["logs:CreateLogStream", "logs:PutLogEvents"],
};

interface Statement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition?: unknown;
}

export function stackSuite(s: Scenario): void {
  let run: StackRun;
  const input = (type: string, name: string) => run.one(type, name).inputs as Record<string, any>;
  const policy = (name: string): Statement[] =>
    json<{ Statement: Statement[] }>(input("aws:iam/rolePolicy:RolePolicy", name).policy).Statement;
  const clusterArn = `arn:aws:kafka:${REGION}:${ACCOUNT}:cluster/cdc-pipeline-${s.stack}/0a1b2c3d-uuid-1`;
  const bucket = `${s.bucketPrefix}4f2a9c`;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const rdsHost = `cdc-pipeline-${s.stack}.abc.${REGION}.rds.amazonaws.com`;
  const cdcSecretArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:cdc-credentials-secret-Xy12Zw`;

  beforeAll(async () => {
    run = await runStack(s.stack, s.config);
  }, 120_000);

  describe(`stack ${s.stack}`, () => {
    it("creates exactly the expected resources", () => {
      expect(run.counts()).toEqual(expectedCounts(s.features));
    });

    it("parents every resource under the component that owns it", () => {
      for (const r of run.resources) {
        if (r.type.startsWith("cdc:") || r.type.startsWith("pulumi:providers:")) {
          expect([r.urn, r.parentType]).toEqual([r.urn, undefined]);
          continue;
        }
        const owner = OWNER_BY_PREFIX.find(([prefix]) => r.name.startsWith(prefix));
        expect([r.urn, r.parentType]).toEqual([r.urn, owner?.[1]]);
      }
    });

    it("protects data on long-lived stacks only", () => {
      const protectedNames = run.resources.filter((r) => r.protect).map((r) => `${r.type} ${r.name}`);
      const expected = s.ephemeral
        ? []
        : [
            "aws:s3/bucket:Bucket storage-bucket",
            ...(s.kms ? ["aws:kms/key:Key storage-key"] : []),
            ...(s.rds ? ["aws:rds/instance:Instance database-instance"] : []),
            ...(s.endpoints
              ? [
                  "postgresql:index/replicationSlot:ReplicationSlot cdc-objects-slot",
                  ...topicNames(s).map((t) => `kafka:index/topic:Topic ${topicResourceName(t)}`),
                ]
              : []),
          ];
      expect(protectedNames.sort()).toEqual(expected.sort());
    });

    it("passes every rule of the policy pack", async () => {
      const byUrn = new Map<string, PolicyResource>();
      const policyResources = run.resources.map((r) => {
        const resource = {
          type: r.type,
          name: r.name,
          urn: r.urn,
          props: unwrapSecrets(r.inputs),
          opts: { protect: r.protect },
          dependencies: [] as PolicyResource[],
          propertyDependencies: {} as Record<string, PolicyResource[]>,
        } as unknown as PolicyResource;
        byUrn.set(r.urn, resource);
        return resource;
      });
      run.resources.forEach((r, i) => {
        const resource = policyResources[i] as PolicyResource;
        for (const [key, urns] of Object.entries(r.propertyDependencies)) {
          resource.propertyDependencies[key] = urns.flatMap((u) => byUrn.get(u) ?? []);
        }
      });
      const found: string[] = [];
      for (const resource of policyResources) {
        for (const policy of resourcePolicies) {
          const validate = policy.validateResource as (a: unknown, r: (m: string) => void) => void;
          await validate(resource, (m) => found.push(`${policy.name} ${resource.name}: ${m}`));
        }
      }
      for (const policy of stackPolicies) {
        await policy.validateStack({ resources: policyResources } as never, (m) =>
          found.push(`${policy.name}: ${m}`),
        );
      }
      expect(found).toEqual([]);
    });

    it("never puts a secret into a plaintext input", () => {
      const leaks = run.resources.flatMap((r) =>
        plaintextLeaks(r.inputs, Object.values(SECRET_VALUES)).map((p) => `${r.type} ${r.name}: ${p}`),
      );
      expect(leaks).toEqual([]);
    });

    if (s.rds) {
      const rds = s.rds;
      it("runs RDS private, encrypted, with an RDS-managed password and logical replication", () => {
        const db = input("aws:rds/instance:Instance", "database-instance");
        expect(db).toMatchObject({
          engine: "postgres",
          instanceClass: rds.instanceClass,
          publiclyAccessible: false,
          storageEncrypted: true,
          manageMasterUserPassword: true,
          multiAz: rds.multiAz,
          backupRetentionPeriod: rds.backupRetentionPeriod,
          deletionProtection: !s.ephemeral,
          skipFinalSnapshot: s.ephemeral,
          deleteAutomatedBackups: s.ephemeral,
          applyImmediately: true,
          parameterGroupName: "database-params",
          vpcSecurityGroupIds: ["network-database-id"],
        });
        expect(db.password).toBeUndefined();
        expect(db.finalSnapshotIdentifier).toBe(s.ephemeral ? undefined : `cdc-pipeline-${s.stack}-final`);
        expect(input("aws:rds/parameterGroup:ParameterGroup", "database-params").parameters).toEqual([
          { name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" },
          {
            name: "max_slot_wal_keep_size",
            value: String(rds.maxSlotWalKeepSizeMb),
            applyMethod: "immediate",
          },
          { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
          { name: "wal_sender_timeout", value: "60000", applyMethod: "immediate" },
        ]);
      });
    }

    it("blocks public access to the bucket, requires TLS, encrypts, and versions by stack kind", () => {
      expect(
        input("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "storage-public-access"),
      ).toMatchObject({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      expect(input("aws:s3/bucket:Bucket", "storage-bucket")).toMatchObject({
        forceDestroy: s.ephemeral,
        bucketPrefix: s.bucketPrefix,
      });
      const statements = json<{ Statement: unknown[] }>(
        input("aws:s3/bucketPolicy:BucketPolicy", "storage-policy").policy,
      ).Statement;
      expect(statements).toEqual([
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [bucketArn, `${bucketArn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
        {
          Sid: "DenyOutdatedTls",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [bucketArn, `${bucketArn}/*`],
          Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
        },
      ]);
      const encryption = input(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "storage-encryption",
      ).rules[0].applyServerSideEncryptionByDefault;
      expect(encryption).toEqual(
        s.kms ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: kmsArn() } : { sseAlgorithm: "AES256" },
      );
      const versioning = run.ofType("aws:s3/bucketVersioning:BucketVersioning");
      expect(versioning.map((v) => v.inputs.versioningConfiguration)).toEqual(
        s.ephemeral ? [] : [{ status: "Enabled" }],
      );
      const rules = input(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "storage-lifecycle",
      ).rules;
      expect(rules.map((r: { id: string }) => r.id)).toEqual([
        "abort-incomplete-multipart-uploads",
        "raw-change-files-to-infrequent-access",
        ...(s.ephemeral ? [] : ["expire-noncurrent-versions"]),
      ]);
      expect(rules[0].abortIncompleteMultipartUpload).toEqual({ daysAfterInitiation: 7 });
      expect(rules[1].filter).toEqual({ prefix: "cdc_data/" });
    });

    it("runs MSK with IAM auth and TLS only, encrypted, without automatic topic creation", () => {
      if (s.kafka.brokers === 0) {
        const serverless = input("aws:msk/serverlessCluster:ServerlessCluster", "kafka-cluster");
        expect(serverless.clientAuthentication).toEqual({ sasl: { iam: { enabled: true } } });
        expect(serverless.vpcConfigs).toEqual([
          { subnetIds: subnetIds(s), securityGroupIds: ["network-kafka-id"] },
        ]);
        return;
      }
      const cluster = input("aws:msk/cluster:Cluster", "kafka-cluster");
      expect(cluster.clientAuthentication).toEqual({ sasl: { iam: true }, unauthenticated: false });
      expect(cluster.encryptionInfo).toEqual({
        encryptionInTransit: { clientBroker: "TLS", inCluster: true },
      });
      expect(cluster.numberOfBrokerNodes).toBe(s.kafka.brokers);
      expect(cluster.brokerNodeGroupInfo.connectivityInfo).toEqual({ publicAccess: { type: "DISABLED" } });
      expect(cluster.loggingInfo.brokerLogs.cloudwatchLogs).toEqual({
        enabled: true,
        logGroup: `/cdc/cdc-pipeline/${s.stack}/msk-brokers`,
      });
      expect(
        input("aws:msk/configuration:Configuration", "kafka-config").serverProperties.split("\n"),
      ).toEqual([
        "auto.create.topics.enable=false",
        `default.replication.factor=${s.kafka.replicationFactor}`,
        `min.insync.replicas=${Math.max(1, Math.min(2, s.kafka.replicationFactor - 1))}`,
        "unclean.leader.election.enable=false",
        "delete.topic.enable=true",
      ]);
    });

    it("keeps logs for the configured retention", () => {
      const groups = run.ofType("aws:cloudwatch/logGroup:LogGroup");
      expect(groups.map((g) => [g.inputs.name, g.inputs.retentionInDays]).sort()).toEqual(
        ["analytics", "connect", ...(s.kafka.brokers > 0 ? ["msk-brokers"] : [])].map((p) => [
          `/cdc/cdc-pipeline/${s.stack}/${p}`,
          s.logRetentionDays,
        ]),
      );
    });

    it("opens exactly the security group flows the pipeline needs", () => {
      const names = [
        ...run.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
        ...run.ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"),
      ].map((r) => r.name);
      expect(names.sort()).toEqual(s.securityGroupRules.map((n) => `network-${n}`).sort());
      expect(
        input(
          "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
          "network-connect-to-database-5432-in",
        ),
      ).toMatchObject({
        securityGroupId: s.existingDatabaseGroupId ?? "network-database-id",
        referencedSecurityGroupId: "network-connect-id",
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
      });
      expect(
        input("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "network-connect-to-s3-443-out"),
      ).toMatchObject({
        securityGroupId: "network-connect-id",
        prefixListId: "pl-6da54004",
        fromPort: 443,
      });
      for (const rule of run.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
        expect([rule.name, rule.inputs.cidrIpv4 ?? "sg"]).not.toEqual([rule.name, "0.0.0.0/0"]);
      }
    });

    it("gives the Connect task role only this pipeline's topics, groups, prefix and secret", () => {
      const topic = (t: string) =>
        `arn:aws:kafka:${REGION}:${ACCOUNT}:topic/cdc-pipeline-${s.stack}/0a1b2c3d-uuid-1/${t}`;
      const group = (g: string) =>
        `arn:aws:kafka:${REGION}:${ACCOUNT}:group/cdc-pipeline-${s.stack}/0a1b2c3d-uuid-1/${g}`;
      const connectGroup = `cdc-connect-${s.stack}`;
      expect(policy("connect-task")).toEqual([
        {
          Sid: "MskCluster",
          Effect: "Allow",
          Action: [
            "kafka-cluster:Connect",
            "kafka-cluster:DescribeCluster",
            "kafka-cluster:WriteDataIdempotently",
          ],
          Resource: [clusterArn],
        },
        {
          Sid: "MskTopics",
          Effect: "Allow",
          Action: [
            "kafka-cluster:DescribeTopic",
            "kafka-cluster:DescribeTopicDynamicConfiguration",
            "kafka-cluster:ReadData",
            "kafka-cluster:WriteData",
          ],
          Resource: [
            "cdc.commerce.products",
            "cdc.commerce.users",
            "__debezium-heartbeat.cdc",
            `${connectGroup}-configs`,
            `${connectGroup}-offsets`,
            `${connectGroup}-status`,
          ].map(topic),
        },
        {
          Sid: "MskGroups",
          Effect: "Allow",
          Action: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
          Resource: [group(connectGroup), group("connect-cdc-s3-sink")],
        },
        {
          Sid: "S3SinkWrite",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
          Resource: [`${bucketArn}/cdc_data/*`],
        },
        {
          Sid: "CdcSecret",
          Effect: "Allow",
          Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
          Resource: [cdcSecretArn],
        },
        ...(s.kms
          ? [
              {
                Sid: "BucketKey",
                Effect: "Allow",
                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                Resource: [kmsArn()],
              },
            ]
          : []),
      ]);
    });

    it("gives the analytics task read on raw changes and read/write on the SCD2 prefix only", () => {
      expect(policy("analytics-task")).toEqual([
        {
          Sid: "ListOwnPrefixes",
          Effect: "Allow",
          Action: ["s3:ListBucket"],
          Resource: [bucketArn],
          Condition: { StringLike: { "s3:prefix": ["cdc_data", "cdc_data/*", "analytics", "analytics/*"] } },
        },
        {
          Sid: "ReadRawChanges",
          Effect: "Allow",
          Action: ["s3:GetObject"],
          Resource: [`${bucketArn}/cdc_data/*`],
        },
        {
          Sid: "ReadWriteScd2",
          Effect: "Allow",
          Action: [
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
          ],
          Resource: [`${bucketArn}/analytics/*`],
        },
        ...(s.kms
          ? [
              {
                Sid: "BucketKey",
                Effect: "Allow",
                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                Resource: [kmsArn()],
              },
            ]
          : []),
      ]);
    });

    it("lets the execution roles pull their own image and write their own logs only", () => {
      for (const part of ["connect", "analytics"]) {
        const repo = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${part}-${part === "connect" ? "worker" : "job"}-repo`;
        const logGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/cdc/cdc-pipeline/${s.stack}/${part}`;
        expect(policy(`${part}-execution`)).toEqual([
          { Sid: "EcrAuth", Effect: "Allow", Action: BASE_ACTIONS.ecrAuth, Resource: ["*"] },
          { Sid: "EcrPull", Effect: "Allow", Action: BASE_ACTIONS.ecrPull, Resource: [repo] },
          { Sid: "Logs", Effect: "Allow", Action: BASE_ACTIONS.logs, Resource: [`${logGroup}:*`] },
        ]);
        for (const role of [`${part}-execution`, `${part}-task`]) {
          expect(
            json<{ Statement: unknown[] }>(input("aws:iam/role:Role", role).assumeRolePolicy).Statement,
          ).toEqual([
            { Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" },
          ]);
        }
      }
    });

    it("schedules the SCD2 job on Fargate in the private subnets with the right command", () => {
      const schedule = input("aws:scheduler/schedule:Schedule", "analytics-schedule");
      expect(schedule.scheduleExpression).toBe(s.schedule);
      expect(schedule.flexibleTimeWindow).toEqual({ mode: "OFF" });
      expect(schedule.target).toEqual({
        arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/connect-cluster-7e1`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/analytics-scheduler`,
        ecsParameters: {
          taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/cdc-pipeline-${s.stack}-scd2:1`,
          launchType: "FARGATE",
          taskCount: 1,
          networkConfiguration: {
            subnets: subnetIds(s),
            securityGroups: ["network-analytics-id"],
            assignPublicIp: false,
          },
          propagateTags: "TASK_DEFINITION",
        },
        retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 3600 },
      });
      const [container] = json<Record<string, unknown>[]>(
        input("aws:ecs/taskDefinition:TaskDefinition", "analytics-task").containerDefinitions,
      );
      expect(container?.command).toEqual([
        "run",
        "--source",
        `s3://${bucket}/cdc_data`,
        "--output",
        `s3://${bucket}/analytics`,
      ]);
      expect(String(container?.image)).toMatch(/analytics-job-repo@sha256:[0-9a-f]{64}$/);
      expect(policy("analytics-scheduler")).toEqual([
        {
          Sid: "RunScd2Task",
          Effect: "Allow",
          Action: ["ecs:RunTask"],
          Resource: [`arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/cdc-pipeline-${s.stack}-scd2:1`],
          Condition: {
            ArnEquals: { "ecs:cluster": `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/connect-cluster-7e1` },
          },
        },
        {
          Sid: "PassTaskRoles",
          Effect: "Allow",
          Action: ["iam:PassRole"],
          Resource: [
            `arn:aws:iam::${ACCOUNT}:role/analytics-task`,
            `arn:aws:iam::${ACCOUNT}:role/analytics-execution`,
          ],
        },
      ]);
    });

    it("runs the Connect workers privately, in distributed mode, scaled on CPU", () => {
      const service = input("aws:ecs/service:Service", "connect-service");
      expect(service).toMatchObject({
        desiredCount: s.endpoints ? s.connect.desired : 0,
        launchType: "FARGATE",
        networkConfiguration: {
          subnets: subnetIds(s),
          securityGroups: ["network-connect-id"],
          assignPublicIp: false,
        },
      });
      expect(input("aws:lb/loadBalancer:LoadBalancer", "connect-lb")).toMatchObject({
        internal: true,
        dropInvalidHeaderFields: true,
      });
      const task = input("aws:ecs/taskDefinition:TaskDefinition", "connect-task");
      expect([task.cpu, task.memory]).toEqual([s.connect.cpu, s.connect.memory]);
      const [container] = json<{ environment: { name: string; value: string }[] }[]>(
        task.containerDefinitions,
      );
      expect(container?.environment).toEqual([
        { name: "AWS_REGION", value: REGION },
        {
          name: "CONNECT_BOOTSTRAP_SERVERS",
          value: "b-1.mock.kafka.eu-west-1.amazonaws.com:9098,b-2.mock.kafka.eu-west-1.amazonaws.com:9098",
        },
        { name: "CONNECT_CONFIG_STORAGE_TOPIC", value: `cdc-connect-${s.stack}-configs` },
        { name: "CONNECT_GROUP_ID", value: `cdc-connect-${s.stack}` },
        { name: "CONNECT_OFFSET_STORAGE_TOPIC", value: `cdc-connect-${s.stack}-offsets` },
        { name: "CONNECT_REPLICATION_FACTOR", value: String(s.kafka.replicationFactor) },
        { name: "CONNECT_STATUS_STORAGE_TOPIC", value: `cdc-connect-${s.stack}-status` },
      ]);
      const targets = run.ofType("aws:appautoscaling/target:Target");
      expect(targets.map((t) => [t.inputs.minCapacity, t.inputs.maxCapacity])).toEqual(
        s.endpoints ? [[s.connect.min, s.connect.max]] : [],
      );
    });

    it("alarms on slot lag, WAL, storage, broker disks, workers and scheduler errors, to the configured people", () => {
      const alarms = run
        .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
        .map((a) => a.name.replace("observability-", ""));
      expect(alarms.sort()).toEqual(
        [
          ...(s.rds ? ["slot-lag", "wal-disk", "free-storage"] : []),
          ...Array.from({ length: s.kafka.brokers }, (_, i) => `kafka-disk-${i + 1}`),
          ...(s.endpoints ? ["connect-tasks"] : []),
          "schedule-errors",
        ].sort(),
      );
      expect(run.ofType("aws:sns/topicSubscription:TopicSubscription").map((t) => t.inputs.endpoint)).toEqual(
        s.alarmEmails,
      );
      const pattern = json<{ detail: Record<string, unknown> }>(
        input("aws:cloudwatch/eventRule:EventRule", "observability-scd2-failed").eventPattern,
      );
      expect(pattern.detail).toEqual({
        clusterArn: [`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/connect-cluster-7e1`],
        taskDefinitionArn: [
          { prefix: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/cdc-pipeline-${s.stack}-scd2:` },
        ],
        lastStatus: ["STOPPED"],
        containers: { exitCode: [{ "anything-but": 0 }] },
      });
    });

    if (s.endpoints) {
      const endpoints = s.endpoints;
      it("points the postgresql and kafka providers at the configured endpoints", () => {
        const pg = input("pulumi:providers:postgresql", "postgres");
        expect([pg.host, Number(pg.port), pg.sslmode, pg.superuser]).toEqual([
          endpoints.databaseHost,
          endpoints.databasePort,
          "require",
          "false",
        ]);
        expect(isSecret(pg.password)).toBe(true);
        expect(reveal(pg.password)).toBe(SECRET_VALUES.masterPassword);
        const kafka = input("pulumi:providers:kafka", "kafka");
        expect(JSON.parse(String(kafka.bootstrapServers))).toEqual([
          "b-1.mock.kafka.eu-west-1.amazonaws.com:9098",
          "b-2.mock.kafka.eu-west-1.amazonaws.com:9098",
        ]);
        expect([kafka.tlsEnabled, kafka.saslMechanism, kafka.saslAwsRegion]).toEqual([
          "true",
          "aws-iam",
          REGION,
        ]);
        for (const topic of run.ofType("kafka:index/topic:Topic"))
          expect(topic.provider).toMatch(/::kafka::kafka-id$/);
        for (const r of run.resources.filter((x) => x.type.startsWith("postgresql:"))) {
          expect(r.provider).toMatch(/::postgres::postgres-id$/);
        }
      });

      it("creates the CDC role, grants, publication and pgoutput slot from connectors/database", () => {
        const role = input("postgresql:index/role:Role", "cdc-objects-role");
        expect([role.name, role.login, role.replication, role.roles]).toEqual([
          "cdc_connector",
          true,
          false,
          ["rds_replication"],
        ]);
        expect(reveal(role.password)).toBe(SECRET_VALUES.randomPassword);
        const grants = run
          .ofType("postgresql:index/grant:Grant")
          .map((g) => [g.inputs.objectType, g.inputs.schema, g.inputs.objects, g.inputs.privileges]);
        expect(grants).toEqual([
          ["schema", "commerce", [], ["USAGE"]],
          ["table", "commerce", ["products", "users"], ["SELECT"]],
          ["table", "commerce", ["cdc_heartbeat"], ["INSERT", "SELECT", "UPDATE"]],
        ]);
        expect(input("postgresql:index/publication:Publication", "cdc-objects-publication").tables).toEqual([
          "commerce.products",
          "commerce.users",
          "commerce.cdc_heartbeat",
        ]);
        expect(input("postgresql:index/replicationSlot:ReplicationSlot", "cdc-objects-slot")).toMatchObject({
          name: "cdc_slot",
          plugin: "pgoutput",
        });
        const ddl = run.one("pulumi-nodejs:dynamic/cdc:SqlStatements", "cdc-objects-ddl").inputs as Record<
          string,
          any
        >;
        expect(isSecret(ddl.connection)).toBe(true);
        const created = (ddl.statements as string[]).map((sql) => sql.split("\n")[0]);
        expect(created).toEqual([
          'CREATE SCHEMA IF NOT EXISTS "commerce"',
          ...(s.createCommerceTables
            ? [
                'CREATE TABLE IF NOT EXISTS "commerce"."products" (',
                'CREATE TABLE IF NOT EXISTS "commerce"."users" (',
              ]
            : []),
          'CREATE TABLE IF NOT EXISTS "commerce"."cdc_heartbeat" (',
          ...(s.createCommerceTables
            ? [
                'ALTER TABLE "commerce"."products" REPLICA IDENTITY DEFAULT',
                'ALTER TABLE "commerce"."users" REPLICA IDENTITY DEFAULT',
              ]
            : []),
        ]);
      });

      it("declares every topic with its partitions, replication factor and retention", () => {
        const topics = run
          .ofType("kafka:index/topic:Topic")
          .map((t) => [t.inputs.name, t.inputs.partitions, t.inputs.replicationFactor, t.inputs.config]);
        const retention = {
          "cleanup.policy": "delete",
          "retention.ms": String(s.kafka.retentionHours * 3_600_000),
        };
        const rf = s.kafka.replicationFactor;
        expect(topics.sort()).toEqual(
          [
            ["cdc.commerce.products", s.kafka.partitions, rf, retention],
            ["cdc.commerce.users", s.kafka.partitions, rf, retention],
            ["__debezium-heartbeat.cdc", 1, rf, { "cleanup.policy": "delete", "retention.ms": "86400000" }],
            [`cdc-connect-${s.stack}-configs`, 1, rf, { "cleanup.policy": "compact" }],
            [`cdc-connect-${s.stack}-offsets`, 25, rf, { "cleanup.policy": "compact" }],
            [`cdc-connect-${s.stack}-status`, 5, rf, { "cleanup.policy": "compact" }],
          ].sort(),
        );
      });

      it("wires both connectors from the builders, after their dependencies, deleted with the service", () => {
        const source = run.one("pulumi-nodejs:dynamic/connect:KafkaConnector", "connectors-source");
        const sink = run.one("pulumi-nodejs:dynamic/connect:KafkaConnector", "connectors-sink");
        for (const c of [source, sink]) {
          expect(c.inputs.connectUrl).toBe(endpoints.connectUrl);
          expect(c.deletedWith).toMatch(/::connect-service$/);
          const deps = c.dependencies.map((u) => u.split("::").pop());
          expect(deps).toEqual(
            expect.arrayContaining([
              "connect-service",
              ...topicNames(s).map(topicResourceName),
              "cdc-objects-role",
              "cdc-objects-grant-schema-commerce-usage",
              "cdc-objects-grant-table-commerce-products-users",
              "cdc-objects-grant-table-commerce-cdc_heartbeat",
              "cdc-objects-publication",
              "cdc-objects-slot",
            ]),
          );
        }
        const sourceConfig = source.inputs.config as Record<string, string>;
        expect(source.inputs.name).toBe("cdc-postgres-source");
        expect(sourceConfig).toMatchObject({
          "database.hostname": rdsHost,
          "database.port": "5432",
          "database.user": "cdc_connector",
          "database.password": `\${secretsmanager:${cdcSecretArn}:password}`,
          "slot.name": "cdc_slot",
          "publication.name": "cdc_publication",
          "plugin.name": "pgoutput",
        });
        expect(sink.inputs.config).toMatchObject({
          "s3.bucket.name": bucket,
          "s3.region": REGION,
          "topics.dir": "cdc_data",
        });
      });
    }
  });

  function kmsArn(): string {
    return `arn:aws:mock:${REGION}:${ACCOUNT}:aws:kms/key:Key/storage-key`;
  }
}

export interface Features {
  /** New VPC (with endpoints) or an existing one. */
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
  /** postgresql/kafka resources and connectors (inClusterResources). */
  inCluster: boolean;
  /** Deployer CIDRs (three ingress rules each). */
  deployerCidrs?: number;
}

/** The exact resource counts a stack with these features has: one line per part of the stack. */
export function expectedCounts(f: Features): Record<string, number> {
  const counts: Record<string, number> = {};
  const add = (entries: Record<string, number>) => {
    for (const [type, n] of Object.entries(entries)) if (n > 0) counts[type] = (counts[type] ?? 0) + n;
  };
  const sgRoles = [
    "connect",
    "connectLb",
    "analytics",
    "kafka",
    ...(f.rds ? ["database"] : []),
    ...(f.newVpc ? ["endpoints"] : []),
    ...(f.tunnelHost ? ["tunnel"] : []),
  ];
  // Flows: connect->db/kafka/connect, lb->connect, vpc->lb, connect/analytics->s3 (+ endpoints, + tunnel x4).
  const ingress =
    5 + (f.newVpc ? 2 : 0) + (f.tunnelHost ? 3 + (f.newVpc ? 1 : 0) : 0) + 3 * (f.deployerCidrs ?? 0);
  const egress = 6 + (f.newVpc ? 2 : 0) + (f.tunnelHost ? 3 + (f.newVpc ? 1 : 0) : 0);
  add({
    "cdc:network:Network": 1,
    "aws:ec2/vpc:Vpc": f.newVpc ? 1 : 0,
    "aws:ec2/subnet:Subnet": f.newVpc ? f.azCount : 0,
    "aws:ec2/routeTable:RouteTable": f.newVpc ? 1 : 0,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": f.newVpc ? f.azCount : 0,
    "aws:ec2/vpcEndpoint:VpcEndpoint": 1 + (f.newVpc ? 4 + (f.tunnelHost ? 3 : 0) : 0),
    "aws:ec2/securityGroup:SecurityGroup": sgRoles.length,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ingress,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": egress,
  });
  if (f.tunnelHost) {
    add({
      "cdc:network:TunnelHost": 1,
      "aws:iam/role:Role": 1,
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
      "aws:iam/instanceProfile:InstanceProfile": 1,
      "aws:ec2/instance:Instance": 1,
    });
  }
  add({
    "cdc:storage:Storage": 1,
    "aws:s3/bucket:Bucket": 1,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
    "aws:s3/bucketVersioning:BucketVersioning": f.ephemeral ? 0 : 1,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
    "aws:s3/bucketPolicy:BucketPolicy": 1,
    "aws:kms/key:Key": f.kms ? 1 : 0,
  });
  if (f.rds) {
    add({
      "cdc:database:Database": 1,
      "aws:rds/subnetGroup:SubnetGroup": 1,
      "aws:rds/parameterGroup:ParameterGroup": 1,
      "aws:rds/instance:Instance": 1,
    });
  }
  add({
    "cdc:kafka:Kafka": 1,
    "aws:msk/cluster:Cluster": f.brokers > 0 ? 1 : 0,
    "aws:msk/configuration:Configuration": f.brokers > 0 ? 1 : 0,
    "aws:msk/serverlessCluster:ServerlessCluster": f.brokers > 0 ? 0 : 1,
    "aws:cloudwatch/logGroup:LogGroup": f.brokers > 0 ? 1 : 0,
  });
  add({
    "cdc:database:CdcCredentials": 1,
    "random:index/randomPassword:RandomPassword": 1,
    "aws:secretsmanager/secret:Secret": 1,
    "aws:secretsmanager/secretVersion:SecretVersion": 1,
  });
  // Connect and analytics each: repository + lifecycle + image, log group, execution and task roles.
  for (const scaled of [f.inCluster, false]) {
    add({
      "aws:ecr/repository:Repository": 1,
      "aws:ecr/lifecyclePolicy:LifecyclePolicy": 1,
      "docker:index/image:Image": 1,
      "aws:cloudwatch/logGroup:LogGroup": 1,
      "aws:iam/role:Role": 2,
      "aws:iam/rolePolicy:RolePolicy": 2,
      "aws:ecs/taskDefinition:TaskDefinition": 1,
      "aws:appautoscaling/target:Target": scaled ? 1 : 0,
      "aws:appautoscaling/policy:Policy": scaled ? 1 : 0,
    });
  }
  add({
    "cdc:connect:Connect": 1,
    "aws:ecs/cluster:Cluster": 1,
    "aws:lb/loadBalancer:LoadBalancer": 1,
    "aws:lb/targetGroup:TargetGroup": 1,
    "aws:lb/listener:Listener": 1,
    "aws:ecs/service:Service": 1,
    "cdc:analytics:Analytics": 1,
    "aws:iam/role:Role": 1, // scheduler
    "aws:iam/rolePolicy:RolePolicy": 1,
    "aws:scheduler/schedule:Schedule": 1,
  });
  add({
    "cdc:observability:Observability": 1,
    "aws:sns/topic:Topic": 1,
    "aws:sns/topicPolicy:TopicPolicy": 1,
    "aws:sns/topicSubscription:TopicSubscription": f.alarmEmails,
    "aws:cloudwatch/metricAlarm:MetricAlarm": (f.rds ? 3 : 0) + f.brokers + (f.inCluster ? 1 : 0) + 1,
    "aws:cloudwatch/eventRule:EventRule": 1,
    "aws:cloudwatch/eventTarget:EventTarget": 1,
    "aws:cloudwatch/dashboard:Dashboard": 1,
  });
  if (f.inCluster) {
    add({
      "pulumi:providers:postgresql": 1,
      "pulumi:providers:kafka": 1,
      "cdc:database:CdcObjects": 1,
      "pulumi-nodejs:dynamic/cdc:SqlStatements": 1,
      "postgresql:index/role:Role": 1,
      "postgresql:index/grant:Grant": 3,
      "postgresql:index/publication:Publication": 1,
      "postgresql:index/replicationSlot:ReplicationSlot": 1,
      "cdc:kafka:KafkaTopics": 1,
      "kafka:index/topic:Topic": 6,
      "cdc:connect:PipelineConnectors": 1,
      "pulumi-nodejs:dynamic/connect:KafkaConnector": 2,
    });
  }
  return counts;
}

/** Inputs with mock secrets replaced by their values, as a policy sees them after `pulumi up`. */
function unwrapSecrets(value: unknown): any {
  if (isSecret(value)) return unwrapSecrets(reveal(value));
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

export function subnetIds(s: Scenario): string[] {
  const existing = s.config["cdc-pipeline:existingPrivateSubnetIds"];
  if (existing) return JSON.parse(existing) as string[];
  const count = Number(s.config["cdc-pipeline:availabilityZoneCount"] ?? 2);
  return Array.from({ length: count }, (_, i) => `network-private-${i}-id`);
}

export function topicNames(s: Scenario): string[] {
  return [
    "cdc.commerce.products",
    "cdc.commerce.users",
    "__debezium-heartbeat.cdc",
    ...["configs", "offsets", "status"].map((x) => `cdc-connect-${s.stack}-${x}`),
  ];
}

export function topicResourceName(topic: string): string {
  return `topics-${topic.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+/, "")}`;
}

export type { Recorded };
