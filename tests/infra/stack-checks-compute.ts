// Stack checks for what runs: the Connect workers (image, service, load balancer, autoscaling),
// the scheduled SCD2 job, the connectors, and their logs.
import { expect, it } from "vitest";
import { WORKER_RDS_CA_BUNDLE } from "../../infra/pipeline-connectors";
import { ACCOUNT, REGION, json } from "./harness";
import {
  sourceDatabase,
  subnetIds,
  topicNames,
  topicResourceName,
  type StackContext,
} from "./stack-scenario";

interface Container {
  name: string;
  image: string;
  essential: boolean;
  command?: string[];
  environment: { name: string; value: string }[];
  portMappings?: unknown[];
  healthCheck?: unknown;
  logConfiguration: unknown;
}

export function computeChecks({ s, m, run, input }: StackContext): void {
  const container = (taskDefinition: string): Container => {
    const [only, ...others] = json<Container[]>(
      input("aws:ecs/taskDefinition:TaskDefinition", taskDefinition).containerDefinitions,
    );
    expect(others).toEqual([]);
    return only as Container;
  };
  const logging = (group: string, prefix: string) => ({
    logDriver: "awslogs",
    options: {
      "awslogs-group": `/cdc/cdc-pipeline/${s.stack}/${group}`,
      "awslogs-region": REGION,
      "awslogs-stream-prefix": prefix,
    },
  });

  it("builds both images into their own scanned ECR repositories, force-deleted on ephemeral stacks only", () => {
    const repos = run()
      .ofType("aws:ecr/repository:Repository")
      .map((r) => [r.name, r.inputs.forceDelete, r.inputs.imageScanningConfiguration]);
    expect(repos.sort()).toEqual(
      ["analytics-job-repo", "connect-worker-repo"].map((n) => [n, s.ephemeral, { scanOnPush: true }]),
    );
    const builds = run()
      .ofType("docker:index/image:Image")
      .map((i) => [i.name, i.inputs.build]);
    expect(builds.sort()).toEqual([
      ["analytics-job-image", { context: ".", dockerfile: "analytics/Dockerfile", platform: "linux/amd64" }],
      [
        "connect-worker-image",
        {
          context: "connectors/worker",
          dockerfile: "connectors/worker/Dockerfile",
          platform: "linux/amd64",
        },
      ],
    ]);
  });

  it("runs the Connect workers privately, in distributed mode, behind an internal load balancer", () => {
    expect(input("aws:ecs/service:Service", "connect-service")).toMatchObject({
      cluster: m.ecsClusterArn,
      desiredCount: s.endpoints ? s.connect.desired : 0,
      launchType: "FARGATE",
      networkConfiguration: {
        subnets: subnetIds(s),
        securityGroups: ["network-connect-id"],
        assignPublicIp: false,
      },
      loadBalancers: [
        {
          targetGroupArn: `arn:aws:mock:${REGION}:${ACCOUNT}:aws:lb/targetGroup:TargetGroup/connect-workers`,
          containerName: "connect",
          containerPort: 8083,
        },
      ],
      // Every replacement starts before an old worker stops (a one-worker service can roll).
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      waitForSteadyState: Boolean(s.endpoints),
    });
    // Where autoscaling runs, it owns the count: an `up` leaves it alone (it still sets it at create).
    expect(run().one("aws:ecs/service:Service", "connect-service").ignoreChanges).toEqual(
      s.endpoints ? ["desiredCount"] : [],
    );
    // Workers start once their listener and (in-cluster) their internal topics, publication and
    // slot exist; so a destroy stops them before it drops the slot they stream.
    const ordering = run()
      .one("aws:ecs/service:Service", "connect-service")
      .dependencies.map((u) => u.split("::").pop() as string)
      .filter(
        (d) => d === "connect-rest" || d.startsWith("topics-") || /^cdc-objects-(slot|publication)$/.test(d),
      );
    expect(ordering.sort()).toEqual(
      [
        "connect-rest",
        ...(s.endpoints
          ? [...topicNames(s).map(topicResourceName), "cdc-objects-publication", "cdc-objects-slot"]
          : []),
      ].sort(),
    );
    expect(input("aws:lb/loadBalancer:LoadBalancer", "connect-lb")).toMatchObject({
      internal: true,
      loadBalancerType: "application",
      subnets: subnetIds(s),
      securityGroups: ["network-connectLb-id"],
      dropInvalidHeaderFields: true,
    });
    expect(input("aws:lb/targetGroup:TargetGroup", "connect-workers")).toMatchObject({
      port: 8083,
      protocol: "HTTP",
      targetType: "ip",
    });
    const listener = input("aws:lb/listener:Listener", "connect-rest");
    const certificateArn = s.config["cdc-pipeline:connectCertificateArn"];
    expect([listener.port, listener.protocol, listener.certificateArn, listener.sslPolicy]).toEqual(
      s.connect.https
        ? [443, "HTTPS", certificateArn, "ELBSecurityPolicy-TLS13-1-2-2021-06"]
        : [80, "HTTP", undefined, undefined],
    );
    const task = input("aws:ecs/taskDefinition:TaskDefinition", "connect-task");
    expect(task).toMatchObject({
      family: `cdc-pipeline-${s.stack}-connect`,
      cpu: s.connect.cpu,
      memory: s.connect.memory,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      executionRoleArn: m.roleArn("connect-execution"),
      taskRoleArn: m.roleArn("connect-task"),
    });
    expect(task.ephemeralStorage).toBeUndefined(); // workers keep nothing on disk: Fargate's 20 GiB

    const worker = container("connect-task");
    expect(worker.image).toMatch(/connect-worker-repo@sha256:[0-9a-f]{64}$/);
    expect(worker.portMappings).toEqual([{ containerPort: 8083, protocol: "tcp" }]);
    expect(worker.logConfiguration).toEqual(logging("connect", "connect"));
    expect(worker.environment).toEqual([
      { name: "AWS_REGION", value: REGION },
      { name: "CONNECT_BOOTSTRAP_SERVERS", value: m.bootstrapBrokers },
      { name: "CONNECT_CONFIG_STORAGE_TOPIC", value: `cdc-connect-${s.stack}-configs` },
      { name: "CONNECT_GROUP_ID", value: `cdc-connect-${s.stack}` },
      { name: "CONNECT_OFFSET_STORAGE_TOPIC", value: `cdc-connect-${s.stack}-offsets` },
      { name: "CONNECT_REPLICATION_FACTOR", value: String(s.kafka.replicationFactor) },
      { name: "CONNECT_STATUS_STORAGE_TOPIC", value: `cdc-connect-${s.stack}-status` },
    ]);
  });

  it("scales the workers on CPU between the configured bounds", () => {
    const targets = run()
      .ofType("aws:appautoscaling/target:Target")
      .map((t) => t.inputs);
    const policies = run()
      .ofType("aws:appautoscaling/policy:Policy")
      .map((p) => p.inputs);
    if (!s.endpoints) {
      // The AWS-only phase runs no workers, so there is nothing to scale.
      expect([targets, policies]).toEqual([[], []]);
      return;
    }
    const resourceId = `service/${m.ecsClusterName}/${m.connectServiceName}`;
    expect(targets).toEqual([
      {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId,
        minCapacity: s.connect.min,
        maxCapacity: s.connect.max,
      },
    ]);
    expect(policies).toEqual([
      {
        policyType: "TargetTrackingScaling",
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
          targetValue: 60,
          scaleInCooldown: 600,
          scaleOutCooldown: 120,
        },
      },
    ]);
  });

  it("schedules the SCD2 job on Fargate in the private subnets with the right command", () => {
    const schedule = input("aws:scheduler/schedule:Schedule", "analytics-schedule");
    expect(schedule).toMatchObject({
      scheduleExpression: s.schedule,
      scheduleExpressionTimezone: "UTC",
      flexibleTimeWindow: { mode: "OFF" },
      state: "ENABLED",
    });
    expect(schedule.target).toEqual({
      arn: m.ecsClusterArn,
      roleArn: m.roleArn("analytics-scheduler"),
      ecsParameters: {
        taskDefinitionArn: m.scd2TaskDefinitionArn,
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
      deadLetterConfig: { arn: m.deadLetterQueueArn },
    });
    // Kept two weeks, encrypted: the scheduler's error is in each message's attributes.
    expect(input("aws:sqs/queue:Queue", "analytics-undelivered")).toMatchObject({
      messageRetentionSeconds: 1209600,
      sqsManagedSseEnabled: true,
    });
    const cpu = s.config["cdc-pipeline:analyticsCpu"] ?? "1024";
    const memory = s.config["cdc-pipeline:analyticsMemory"] ?? "4096";
    expect(input("aws:ecs/taskDefinition:TaskDefinition", "analytics-task")).toMatchObject({
      family: `cdc-pipeline-${s.stack}-scd2`,
      cpu,
      memory,
      // The job stages what it reads on local disk: more than Fargate's default 20 GiB.
      ephemeralStorage: { sizeInGib: Number(s.config["cdc-pipeline:scd2EphemeralStorageGiB"] ?? 50) },
      executionRoleArn: m.roleArn("analytics-execution"),
      taskRoleArn: m.roleArn("analytics-task"),
    });
    const job = container("analytics-task");
    expect(job.command).toEqual([
      "run",
      "--source",
      `s3://${m.bucket}/cdc_data`,
      "--output",
      `s3://${m.bucket}/analytics`,
      "--memory-limit",
      // 60% of the task memory: 4096 MiB by default, 8192 on prod.
      memory === "8192" ? "4915MiB" : "2457MiB",
      // After each run the job adds the columns its files gained to the stack's Glue tables.
      "--glue-database",
      `cdc_${s.stack}`.replace(/[^a-z0-9_]/g, "_"),
    ]);
    expect(job.environment).toEqual([{ name: "AWS_REGION", value: REGION }]);
    expect(job.image).toMatch(/analytics-job-repo@sha256:[0-9a-f]{64}$/);
    expect(job.logConfiguration).toEqual(logging("analytics", "scd2"));
  });

  it("keeps logs for the configured retention", () => {
    const groups = run().ofType("aws:cloudwatch/logGroup:LogGroup");
    expect(groups.map((g) => [g.inputs.name, g.inputs.retentionInDays]).sort()).toEqual(
      [
        "analytics",
        "connect",
        ...(s.features.connectors ? ["connector-health"] : []),
        ...(s.kafka.brokers > 0 ? ["msk-brokers"] : []),
      ].map((p) => [`/cdc/cdc-pipeline/${s.stack}/${p}`, s.logRetentionDays]),
    );
  });

  if (!s.endpoints || !s.features.connectors) return;
  const endpoints = s.endpoints;

  it("wires both connectors from the builders, after their dependencies, deleted with the service", () => {
    const source = run().one("pulumi-nodejs:dynamic/connect:KafkaConnector", "connectors-source");
    const sink = run().one("pulumi-nodejs:dynamic/connect:KafkaConnector", "connectors-sink");
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
    const database = sourceDatabase(s);
    expect(source.inputs.name).toBe("cdc-postgres-source");
    expect(source.inputs.config).toMatchObject({
      "database.hostname": database.host,
      "database.port": String(database.port),
      "database.dbname": database.name,
      "database.user": "cdc_connector",
      "slot.name": "cdc_slot",
      "publication.name": "cdc_publication",
      "plugin.name": "pgoutput",
      // The stack's TLS mode; the verifying modes check the server against the CAs the image ships.
      "database.sslmode": endpoints.sslMode ?? "require",
    });
    expect((source.inputs.config as Record<string, unknown>)["database.sslrootcert"]).toBe(
      endpoints.sslMode?.startsWith("verify") ? WORKER_RDS_CA_BUNDLE : undefined,
    );
    // The placeholder names the secret (its `name` output), never its ARN: Kafka's ConfigTransformer ends
    // the path at the second colon, so `${secretsmanager:arn:aws:...:password}` would look up the path "arn".
    expect((source.inputs.config as Record<string, unknown>)["database.password"]).toBe(
      `\${secretsmanager:${m.cdcSecretName}:password}`,
    );
    expect(sink.inputs.name).toBe("cdc-s3-sink");
    // Exactly these keys: the sink gets scheduled rotation (and the timezone it requires with it)
    // from sinkRotateScheduleMinutes, and nothing it would not get from the builder's defaults.
    const jsonConverter = "org.apache.kafka.connect.json.JsonConverter";
    expect(sink.inputs.config).toEqual({
      "connector.class": "io.confluent.connect.s3.S3SinkConnector",
      "tasks.max": "1",
      topics: "cdc.commerce.products,cdc.commerce.users",
      "s3.bucket.name": m.bucket,
      "s3.region": REGION,
      "storage.class": "io.confluent.connect.s3.storage.S3Storage",
      "topics.dir": "cdc_data",
      "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat",
      "parquet.codec": "snappy",
      "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
      "flush.size": "1000",
      ...(s.sinkRotateScheduleMs === undefined
        ? {}
        : { "rotate.schedule.interval.ms": String(s.sinkRotateScheduleMs), timezone: "UTC" }),
      "schema.compatibility": "NONE",
      "behavior.on.null.values": "ignore",
      "key.converter": jsonConverter,
      "key.converter.schemas.enable": "true",
      "value.converter": jsonConverter,
      "value.converter.schemas.enable": "true",
      "errors.tolerance": "none",
    });
  });
}
