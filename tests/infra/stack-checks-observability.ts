// Stack checks for observability: every alarm (metric, dimensions, threshold, actions), the SNS
// topic and its subscribers, the failed-run EventBridge rule, and the dashboard.
import { expect, it } from "vitest";
import { ACCOUNT, REGION, json } from "./harness";
import { alarmKeys, type StackContext } from "./stack-scenario";

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

export function observabilityChecks({ s, m, run, input }: StackContext): void {
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
      "schedule-errors",
      "AWS/Scheduler",
      "TargetErrorCount",
      { ScheduleGroup: "default" },
      "Sum",
      "GreaterThanThreshold",
      0,
      1,
      "notBreaching",
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
          ]) => [
            `observability-${key}`,
            {
              namespace,
              metricName,
              dimensions,
              statistic,
              period: 300,
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

  it("reports SCD2 tasks that stop with a non-zero exit code on the same topic", () => {
    const pattern = json(
      input("aws:cloudwatch/eventRule:EventRule", "observability-scd2-failed").eventPattern,
    );
    expect(pattern).toEqual({
      source: ["aws.ecs"],
      "detail-type": ["ECS Task State Change"],
      detail: {
        clusterArn: [m.ecsClusterArn],
        taskDefinitionArn: [
          { prefix: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/cdc-pipeline-${s.stack}-scd2:` },
        ],
        lastStatus: ["STOPPED"],
        containers: { exitCode: [{ "anything-but": 0 }] },
      },
    });
    expect(input("aws:cloudwatch/eventTarget:EventTarget", "observability-scd2-failed")).toMatchObject({
      rule: "observability-scd2-failed",
      arn: m.alarmTopicArn,
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

  it("draws every alarm's metric and threshold on the stack's dashboard", () => {
    const dashboard = input("aws:cloudwatch/dashboard:Dashboard", "observability-dashboard");
    expect(dashboard.dashboardName).toBe(`cdc-pipeline-${s.stack}`);
    const { widgets } = json<{ widgets: Widget[] }>(dashboard.dashboardBody);
    const description = (key: string) =>
      input("aws:cloudwatch/metricAlarm:MetricAlarm", `observability-${key}`).alarmDescription as string;
    expect(widgets.map((w) => [w.type, w.properties])).toEqual(
      alarms.map(([key, namespace, metric, dimensions, statistic, , threshold]) => [
        "metric",
        {
          title: description(key),
          region: REGION,
          stat: statistic,
          period: 300,
          metrics: [[namespace, metric, ...Object.entries(dimensions).flat()]],
          annotations: { horizontal: [{ value: threshold, label: "alarm" }] },
        },
      ]),
    );
  });
}
