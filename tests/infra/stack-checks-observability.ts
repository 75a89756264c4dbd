// Stack checks for observability: every alarm (metric, dimensions, threshold, actions), the SNS
// topic and its subscribers, the failed-run EventBridge rule, and the dashboard.
import { expect, it } from "vitest";
import { failedRunPattern, succeededRunPattern } from "../../infra/run-events";
import { ACCOUNT, REGION, json } from "./harness";
import { alarmKeys, subnetIds, type StackContext } from "./stack-scenario";

type AlarmRow = [
  key: string,
  namespace: string,
  metric: string,
  dimensions: Record<string, string>,
  statistic: string,
  comparison: string,
  threshold: number,
  periods: number,
  missingData: string,
  period?: number,
];

interface Widget {
  type: string;
  width: number;
  height: number;
  properties: {
    title: string;
    region: string;
    stat: string;
    period: number;
    metrics: unknown[][];
    annotations: { horizontal: { value: number; label: string }[] };
  };
}

export function observabilityChecks({ s, m, run, input, policy }: StackContext): void {
  const a = s.alarms;
  const db = { DBInstanceIdentifier: a.databaseIdentifier ?? "" };
  const expectedAlarms: AlarmRow[] = [
    [
      "slot-lag",
      "AWS/RDS",
      "OldestReplicationSlotLag",
      db,
      "Maximum",
      "GreaterThanThreshold",
      a.slotLagBytes,
      3,
      "notBreaching",
    ],
    [
      "wal-disk",
      "AWS/RDS",
      "TransactionLogsDiskUsage",
      db,
      "Maximum",
      "GreaterThanThreshold",
      a.walDiskBytes,
      2,
      "notBreaching",
    ],
    [
      "free-storage",
      "AWS/RDS",
      "FreeStorageSpace",
      db,
      "Minimum",
      "LessThanThreshold",
      a.freeStorageBytes,
      2,
      "breaching",
    ],
    ...Array.from({ length: s.kafka.brokers }, (_, i): AlarmRow => [
      `kafka-disk-${i + 1}`,
      "AWS/Kafka",
      "KafkaDataLogsDiskUsed",
      { "Cluster Name": `cdc-pipeline-${s.stack}`, "Broker ID": String(i + 1) },
      "Maximum",
      "GreaterThanThreshold",
      a.kafkaDiskPercent,
      2,
      "notBreaching",
    ]),
    [
      "connect-tasks",
      "ECS/ContainerInsights",
      "RunningTaskCount",
      { ClusterName: m.ecsClusterName, ServiceName: m.connectServiceName },
      "Minimum",
      "LessThanThreshold",
      s.connect.min,
      2,
      "breaching",
    ],
    [
      // The health check's metric: 4 one-minute checks in a row, no check at all counts as failing.
      "connectors-not-running",
      "CdcPipeline/Connect",
      "NotRunning",
      { Stack: s.stack },
      "Maximum",
      "GreaterThanThreshold",
      0,
      4,
      "breaching",
      60,
    ],
    [
      // Runs the scheduler could not start land in the stack's own dead-letter queue.
      "schedule-errors",
      "AWS/SQS",
      "NumberOfMessagesSent",
      { QueueName: "analytics-undelivered" },
      "Sum",
      "GreaterThanThreshold",
      0,
      1,
      "notBreaching",
    ],
    [
      // No successful run within two schedule gaps; no data (EventBridge sends none) is breaching.
      "scd2-heartbeat",
      "AWS/Events",
      "Invocations",
      { RuleName: "observability-scd2-succeeded" },
      "Sum",
      "LessThanThreshold",
      1,
      2,
      "breaching",
      s.heartbeatPeriodSeconds,
    ],
  ];
  // The scenario's features decide which of these the stack has (alarmKeys), in creation order.
  const alarms = alarmKeys(s).map((key) => expectedAlarms.find(([k]) => k === key) as AlarmRow);

  it("alarms on slot lag, WAL, storage, broker disks, workers and scheduler errors, to one topic", () => {
    // Descriptions are prose (the dashboard titles check them); tags are the stack's.
    const actual = run()
      .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
      .map((r) => {
        const { alarmDescription: _prose, tags: _tags, ...alarm } = r.inputs;
        return [r.name, alarm];
      });
    expect(actual.sort()).toEqual(
      alarms
        .map(
          ([
            key,
            namespace,
            metricName,
            dimensions,
            statistic,
            comparisonOperator,
            threshold,
            evaluationPeriods,
            treatMissingData,
            period,
          ]) => [
            `observability-${key}`,
            {
              namespace,
              metricName,
              dimensions,
              statistic,
              period: period ?? 300,
              evaluationPeriods,
              comparisonOperator,
              threshold,
              treatMissingData,
              alarmActions: [m.alarmTopicArn],
              okActions: [m.alarmTopicArn],
            },
          ],
        )
        .sort(),
    );
  });

  it("sends alarms to the subscribers from config", () => {
    const subscriptions = run()
      .ofType("aws:sns/topicSubscription:TopicSubscription")
      .map((t) => [t.inputs.topic, t.inputs.protocol, t.inputs.endpoint]);
    expect(subscriptions).toEqual(s.alarmEmails.map((email) => [m.alarmTopicArn, "email", email]));
  });

  it("reports failed SCD2 runs on the same topic and counts the successful ones", () => {
    // The patterns are those run-events.test.ts checks against ECS's events, for this cluster and family.
    const family = `cdc-pipeline-${s.stack}-scd2`;
    const pattern = (rule: string) => json(input("aws:cloudwatch/eventRule:EventRule", rule).eventPattern);
    expect(pattern("observability-scd2-failed")).toEqual(failedRunPattern(m.ecsClusterArn, family));
    expect(pattern("observability-scd2-succeeded")).toEqual(succeededRunPattern(m.ecsClusterArn, family));
    expect(input("aws:cloudwatch/eventTarget:EventTarget", "observability-scd2-failed")).toMatchObject({
      rule: "observability-scd2-failed",
      arn: m.alarmTopicArn,
    });
    expect(input("aws:cloudwatch/eventTarget:EventTarget", "observability-scd2-succeeded")).toMatchObject({
      rule: "observability-scd2-succeeded",
      arn: m.runsQueueArn,
    });
    const queuePolicy = input("aws:sqs/queuePolicy:QueuePolicy", "observability-scd2-runs");
    expect(json(queuePolicy.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "EventBridgeSucceededRuns",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: m.runsQueueArn,
          Condition: { ArnEquals: { "aws:SourceArn": m.succeededRunsRuleArn } },
        },
      ],
    });
    const topicPolicy = input("aws:sns/topicPolicy:TopicPolicy", "observability-alarms");
    expect(topicPolicy.arn).toBe(m.alarmTopicArn);
    expect(json(topicPolicy.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "EventBridgeFailedRuns",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sns:Publish",
          Resource: m.alarmTopicArn,
          Condition: { ArnEquals: { "aws:SourceArn": m.failedRunsRuleArn } },
        },
      ],
    });
  });

  if (s.features.connectors) {
    it("checks the connectors every minute from a Lambda function in the private subnets", () => {
      const fn = input("aws:lambda/function:Function", "connector-health-check");
      expect(fn).toMatchObject({
        runtime: "nodejs22.x",
        handler: "index.handler",
        role: m.roleArn("connector-health-check"),
        timeout: 20,
        vpcConfig: { subnetIds: subnetIds(s), securityGroupIds: ["network-health-id"] },
        // The load balancer, never the endpoint override Pulumi itself may use.
        environment: {
          variables: {
            CONNECT_URL: `http://${m.connectLbHost}`,
            EXPECTED_CONNECTORS: "cdc-postgres-source,cdc-s3-sink",
            METRIC_NAMESPACE: "CdcPipeline/Connect",
            STACK: s.stack,
          },
        },
        loggingConfig: { logFormat: "Text", logGroup: `/cdc/cdc-pipeline/${s.stack}/connector-health` },
      });
      expect(input("aws:cloudwatch/eventRule:EventRule", "connector-health-check").scheduleExpression).toBe(
        "rate(1 minute)",
      );
      expect(input("aws:cloudwatch/eventTarget:EventTarget", "connector-health-check").rule).toBe(
        "connector-health-check",
      );
      expect(input("aws:lambda/permission:Permission", "connector-health-check")).toMatchObject({
        action: "lambda:InvokeFunction",
        principal: "events.amazonaws.com",
        sourceArn: `arn:aws:mock:${REGION}:${ACCOUNT}:aws:cloudwatch/eventRule:EventRule/connector-health-check`,
      });
      expect(json(input("aws:iam/role:Role", "connector-health-check").assumeRolePolicy)).toEqual({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      });
      expect(policy("connector-health-check")).toEqual([
        {
          Sid: "Logs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: [
            `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/cdc/cdc-pipeline/${s.stack}/connector-health:*`,
          ],
        },
        {
          Sid: "VpcNetworkInterfaces",
          Effect: "Allow",
          Action: [
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
          ],
          Resource: [`arn:aws:ec2:${REGION}:${ACCOUNT}:*/*`],
        },
        {
          Sid: "VpcDescribe",
          Effect: "Allow",
          Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
          Resource: ["*"],
        },
      ]);
    });
  }

  it("draws every alarm's metric and threshold on the stack's dashboard", () => {
    const dashboard = input("aws:cloudwatch/dashboard:Dashboard", "observability-dashboard");
    expect(dashboard.dashboardName).toBe(`cdc-pipeline-${s.stack}`);
    const { widgets } = json<{ widgets: Widget[] }>(dashboard.dashboardBody);
    const description = (key: string) =>
      input("aws:cloudwatch/metricAlarm:MetricAlarm", `observability-${key}`).alarmDescription as string;
    const states = (kind: string, title: string, names: string[]) => [
      "metric",
      {
        title,
        region: REGION,
        stat: "Maximum",
        period: 60,
        stacked: true,
        metrics: names.map((state) => ["CdcPipeline/Connect", `${kind}${state}`, "Stack", s.stack]),
      },
    ];
    const running = ["Running", "Paused", "Stopped", "Unassigned", "Restarting", "Failed"];
    expect(widgets.map((w) => [w.type, w.properties])).toEqual([
      ...alarms.map(([key, namespace, metric, dimensions, statistic, , threshold, , , period]) => [
        "metric",
        {
          title: description(key),
          region: REGION,
          stat: statistic,
          period: period ?? 300,
          metrics: [[namespace, metric, ...Object.entries(dimensions).flat()]],
          annotations: { horizontal: [{ value: threshold, label: "alarm" }] },
        },
      ]),
      // Where the connectors run, how many connectors and tasks are in each state.
      ...(s.features.connectors
        ? [
            states("Connectors", "Connector states", [...running, "Missing"]),
            states("Tasks", "Task states", running),
          ]
        : []),
    ]);
  });
}
