// Connect workers: the worker image, an ECS Fargate service in distributed mode behind an
// internal load balancer, CPU autoscaling, and a task role scoped to this pipeline only.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  bucketKeyStatement,
  executionStatements,
  fargateTaskDefinition,
  mskResourceArn,
  repositoryImage,
  s3ObjectsArn,
  serviceLogGroup,
  taskRole,
  type LogGroupSettings,
  type StatementInput,
} from "./lib";
import { CONNECT_DEPLOYMENT } from "./connect-deployment";

/** Port of the Kafka Connect REST API in the container. */
export const CONNECT_REST_PORT = 8083;

export interface ConnectArgs {
  /** AWS region (worker config and log configuration). */
  region: string;
  /** VPC of the load balancer's target group. */
  vpcId: pulumi.Input<string>;
  /** Private subnets of the workers and the internal load balancer. */
  subnetIds: pulumi.Input<string>[];
  /** Security group of the worker tasks. */
  workerSecurityGroupId: pulumi.Input<string>;
  /** Security group of the internal load balancer. */
  loadBalancerSecurityGroupId: pulumi.Input<string>;
  /** MSK cluster ARN (IAM resources are derived from it). */
  kafkaClusterArn: pulumi.Input<string>;
  /** SASL/IAM bootstrap brokers, comma-separated. */
  bootstrapBrokers: pulumi.Input<string>;
  /** Worker group id (`group.id`); also the consumer group the workers join. */
  groupId: string;
  /** Internal topics (created by KafkaTopics). */
  internalTopics: { config: string; offset: string; status: string };
  /** Replication factor of the internal topics. */
  internalTopicReplicationFactor: number;
  /** Topics the connectors read or write (change and heartbeat topics). */
  dataTopics: string[];
  /** Consumer groups of sink connectors (`connect-<name>`). */
  sinkConsumerGroups: string[];
  /** The bucket the S3 sink writes to. */
  bucketArn: pulumi.Input<string>;
  /** The S3 sink's `topics.dir`: the only prefix the workers may write. */
  topicsDir: string;
  /** The bucket's KMS key, when it has one. Defaults to none (S3-managed keys). */
  bucketKmsKeyArn?: pulumi.Input<string>;
  /** The secret holding the CDC role's password (the only secret the workers can read). */
  cdcSecretArn: pulumi.Input<string>;
  /**
   * Workers the service starts with; autoscaling owns the count afterwards. 0 (the AWS-only phase):
   * no workers and no autoscaling. Defaults to 2.
   */
  desiredCount?: number;
  /** Fewest workers autoscaling keeps. Defaults to 1. */
  minCount?: number;
  /** Most workers autoscaling starts. Defaults to 4. */
  maxCount?: number;
  /** Target average CPU (percent) for autoscaling. Defaults to 60. */
  cpuTargetPercent?: number;
  /** Fargate CPU units per worker. Defaults to 1024. */
  cpu?: number;
  /** Fargate memory (MiB) per worker, valid for `cpu`. Defaults to 4096. */
  memory?: number;
  /** ACM certificate for an HTTPS listener on 443. Defaults to HTTP on port 80 (internal only). */
  certificateArn?: string;
  /** Ephemeral stack (repository force-delete). Defaults to false. */
  ephemeral?: boolean;
  /** What must exist before workers start (their internal topics). Defaults to nothing. */
  serviceDependsOn?: pulumi.Resource[];
  /** Log group retention and tags. */
  logs: LogGroupSettings;
  /** Tags for every resource. Defaults to none. */
  tags?: Record<string, string>;
}

/** The task role's statements: MSK for this cluster's topics/groups, S3 under topics.dir, one secret. */
export function connectTaskStatements(a: {
  clusterArn: string;
  topics: string[];
  groups: string[];
  bucketArn: string;
  topicsDir: string;
  kmsKeyArn?: string;
  cdcSecretArn: string;
}): StatementInput[] {
  const statements: StatementInput[] = [
    {
      Sid: "MskCluster",
      // Kafka 3 producers are idempotent by default, which MSK authorizes on the cluster.
      Action: [
        "kafka-cluster:Connect",
        "kafka-cluster:DescribeCluster",
        "kafka-cluster:WriteDataIdempotently",
      ],
      Resource: [a.clusterArn],
    },
    {
      Sid: "MskTopics",
      Action: [
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:DescribeTopicDynamicConfiguration",
        "kafka-cluster:ReadData",
        "kafka-cluster:WriteData",
      ],
      Resource: a.topics.map((t) => mskResourceArn(a.clusterArn, "topic", t)),
    },
    {
      Sid: "MskGroups",
      Action: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
      Resource: a.groups.map((g) => mskResourceArn(a.clusterArn, "group", g)),
    },
    {
      Sid: "S3SinkWrite",
      Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      Resource: [s3ObjectsArn(a.bucketArn, a.topicsDir)],
    },
    {
      Sid: "CdcSecret",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      Resource: [a.cdcSecretArn],
    },
  ];
  return a.kmsKeyArn ? [...statements, bucketKeyStatement(a.kmsKeyArn)] : statements;
}

export class Connect extends pulumi.ComponentResource {
  readonly clusterArn: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  /** REST API URL through the internal load balancer. */
  readonly restUrl: pulumi.Output<string>;
  readonly desiredCount: number;
  /** The ECS service (connectors depend on it and are deleted with it). */
  readonly service: aws.ecs.Service;

  constructor(name: string, args: ConnectArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:connect:Connect", name, {}, opts);
    const tags = args.tags ?? {};
    const desiredCount = args.desiredCount ?? 2;
    this.desiredCount = desiredCount;
    // No workers (the AWS-only phase): nothing to scale.
    const scaling = desiredCount > 0;

    const { repository, imageUri } = repositoryImage(
      `${name}-worker`,
      {
        context: "connectors/worker",
        dockerfile: "connectors/worker/Dockerfile",
        ephemeral: args.ephemeral ?? false,
        tags,
      },
      this,
    );
    const cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      { settings: [{ name: "containerInsights", value: "enabled" }], tags },
      { parent: this },
    );
    this.clusterArn = cluster.arn;
    this.clusterName = cluster.name;
    const logGroup = serviceLogGroup(`${name}-workers`, "connect", args.logs, this);

    const executionRole = taskRole(
      `${name}-execution`,
      executionStatements(repository.arn, logGroup.arn),
      tags,
      this,
    );
    const statements = pulumi
      .all([args.kafkaClusterArn, args.bucketArn, args.bucketKmsKeyArn, args.cdcSecretArn])
      .apply(([clusterArn, bucketArn, kmsKeyArn, cdcSecretArn]) =>
        connectTaskStatements({
          clusterArn,
          topics: [
            ...args.dataTopics,
            args.internalTopics.config,
            args.internalTopics.offset,
            args.internalTopics.status,
          ],
          groups: [args.groupId, ...args.sinkConsumerGroups],
          bucketArn,
          topicsDir: args.topicsDir,
          kmsKeyArn,
          cdcSecretArn,
        }),
      );
    const role = taskRole(`${name}-task`, statements, tags, this);
    this.taskRoleArn = role.arn;

    const taskDefinition = fargateTaskDefinition(
      `${name}-task`,
      {
        family: `${pulumi.getProject()}-${pulumi.getStack()}-connect`,
        cpu: args.cpu ?? 1024,
        memory: args.memory ?? 4096,
        executionRoleArn: executionRole.arn,
        taskRoleArn: role.arn,
        container: {
          name: "connect",
          image: imageUri,
          logGroupName: logGroup.name,
          region: args.region,
          port: CONNECT_REST_PORT,
          environment: {
            CONNECT_BOOTSTRAP_SERVERS: args.bootstrapBrokers,
            CONNECT_GROUP_ID: args.groupId,
            CONNECT_CONFIG_STORAGE_TOPIC: args.internalTopics.config,
            CONNECT_OFFSET_STORAGE_TOPIC: args.internalTopics.offset,
            CONNECT_STATUS_STORAGE_TOPIC: args.internalTopics.status,
            CONNECT_REPLICATION_FACTOR: String(args.internalTopicReplicationFactor),
            AWS_REGION: args.region,
          },
          healthCheckCommand: [
            "CMD-SHELL",
            `wget -q -O /dev/null http://localhost:${CONNECT_REST_PORT}/ || exit 1`,
          ],
        },
        tags,
      },
      this,
    );

    const https = args.certificateArn !== undefined;
    const loadBalancer = new aws.lb.LoadBalancer(
      `${name}-lb`,
      {
        internal: true,
        loadBalancerType: "application",
        subnets: args.subnetIds,
        securityGroups: [args.loadBalancerSecurityGroupId],
        dropInvalidHeaderFields: true,
        tags,
      },
      { parent: this },
    );
    const targetGroup = new aws.lb.TargetGroup(
      `${name}-workers`,
      {
        port: CONNECT_REST_PORT,
        protocol: "HTTP",
        targetType: "ip",
        vpcId: args.vpcId,
        deregistrationDelay: 30,
        healthCheck: { path: "/", matcher: "200", interval: 15, healthyThreshold: 2, unhealthyThreshold: 3 },
        tags,
      },
      { parent: this },
    );
    const listener = new aws.lb.Listener(
      `${name}-rest`,
      {
        loadBalancerArn: loadBalancer.arn,
        port: https ? 443 : 80,
        protocol: https ? "HTTPS" : "HTTP",
        certificateArn: args.certificateArn,
        sslPolicy: https ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : undefined,
        defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
        tags,
      },
      { parent: this },
    );
    this.restUrl = pulumi.interpolate`${https ? "https" : "http"}://${loadBalancer.dnsName}`;

    this.service = new aws.ecs.Service(
      `${name}-service`,
      {
        cluster: cluster.arn,
        taskDefinition: taskDefinition.arn,
        desiredCount,
        launchType: "FARGATE",
        networkConfiguration: {
          subnets: args.subnetIds,
          securityGroups: [args.workerSecurityGroupId],
          assignPublicIp: false,
        },
        loadBalancers: [
          { targetGroupArn: targetGroup.arn, containerName: "connect", containerPort: CONNECT_REST_PORT },
        ],
        healthCheckGracePeriodSeconds: 180,
        deploymentMinimumHealthyPercent: CONNECT_DEPLOYMENT.minimumHealthyPercent,
        deploymentMaximumPercent: CONNECT_DEPLOYMENT.maximumPercent,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        propagateTags: "SERVICE",
        waitForSteadyState: scaling,
        tags,
      },
      {
        parent: this,
        dependsOn: [listener, ...(args.serviceDependsOn ?? [])],
        // Application Auto Scaling owns the count once the service exists: an `up` that set it back
        // would undo a scale-out. The count above still starts the service when it is created.
        ignoreChanges: scaling ? ["desiredCount"] : [],
      },
    );
    this.serviceName = this.service.name;

    if (scaling) {
      const scalingTarget = new aws.appautoscaling.Target(
        `${name}-scaling`,
        {
          serviceNamespace: "ecs",
          scalableDimension: "ecs:service:DesiredCount",
          resourceId: pulumi.interpolate`service/${cluster.name}/${this.service.name}`,
          minCapacity: args.minCount ?? 1,
          maxCapacity: args.maxCount ?? 4,
        },
        { parent: this },
      );
      new aws.appautoscaling.Policy(
        `${name}-cpu`,
        {
          policyType: "TargetTrackingScaling",
          serviceNamespace: scalingTarget.serviceNamespace,
          scalableDimension: scalingTarget.scalableDimension,
          resourceId: scalingTarget.resourceId,
          targetTrackingScalingPolicyConfiguration: {
            predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
            targetValue: args.cpuTargetPercent ?? 60,
            // Scale in slowly: every worker leaving triggers a rebalance of all connectors.
            scaleInCooldown: 600,
            scaleOutCooldown: 120,
          },
        },
        { parent: this },
      );
    }
    this.registerOutputs({
      restUrl: this.restUrl,
      clusterArn: this.clusterArn,
      serviceName: this.serviceName,
    });
  }
}
