// Observability: alarms on what breaks a CDC pipeline (a slot retaining WAL, disks filling up,
// workers gone, the SCD2 job failing or not running), all to one SNS topic, and a dashboard.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { alarmSpecs } from "./alarm-specs";
import { CHECK_EVERY_MINUTES, STATES, stateMetric } from "./connector-health";
import { eventRuleDeliveryPolicy } from "./lib";
import { watchRuns } from "./run-events";

export interface ObservabilityArgs {
  /** E-mail addresses subscribed to the alarm topic. Defaults to none. */
  alarmEmails?: string[];
  /** RDS instance identifier; RDS alarms are skipped without it (existing database without one). */
  databaseInstanceIdentifier?: pulumi.Input<string>;
  /** Replication slot lag (bytes) that raises an alarm. Defaults to 1 GiB. */
  slotLagBytes?: number;
  /** `max_slot_wal_keep_size` (MB): WAL disk use above 80% of it raises an alarm. Defaults to 10240. */
  maxSlotWalKeepSizeMb?: number;
  /** Free storage (bytes) below which an alarm is raised. Defaults to 10 GiB. */
  freeStorageBytes?: number;
  /** MSK cluster name (the disk alarms' dimension). */
  kafkaClusterName: pulumi.Input<string>;
  /** Provisioned broker count: one disk alarm each (0, as for MSK Serverless, skips them). */
  kafkaBrokerCount: number;
  /** Broker data disk use (percent) that raises an alarm. Defaults to 80. */
  kafkaDiskPercent?: number;
  /** ECS cluster of the Connect service. */
  connectClusterName: pulumi.Input<string>;
  /** The Connect service, whose running-task count is watched. */
  connectServiceName: pulumi.Input<string>;
  /** Fewer running workers than this raises an alarm (0 skips the alarm). */
  connectMinRunning: number;
  /** ECS cluster the SCD2 job runs on (its failed runs are reported). */
  analyticsClusterArn: pulumi.Input<string>;
  /** Task definition family of the SCD2 job. */
  analyticsTaskFamily: string;
  /** The SCD2 job's schedule expression: no successful run within two of its gaps raises an alarm. */
  analyticsSchedule: string;
  /** The schedule's dead-letter queue: runs the scheduler could not start. */
  scheduleDeadLetterQueueName: pulumi.Input<string>;
  /**
   * Where the connector health check writes its metrics (stacks that deploy the connectors): an
   * alarm when any connector or task is not RUNNING, and the states on the dashboard. Defaults to none.
   */
  connectorHealth?: { namespace: string; stack: string };
  /** AWS region of the dashboard widgets. */
  region: string;
  /** Tags for every resource. Defaults to none. */
  tags?: Record<string, string>;
}

export class Observability extends pulumi.ComponentResource {
  readonly alarmTopicArn: pulumi.Output<string>;
  readonly alarmNames: pulumi.Output<string>[];
  readonly dashboardName: pulumi.Output<string>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:observability:Observability", name, {}, opts);
    const tags = args.tags ?? {};
    const topic = new aws.sns.Topic(`${name}-alarms`, { tags }, { parent: this });
    this.alarmTopicArn = topic.arn;
    (args.alarmEmails ?? []).forEach(
      (email, i) =>
        new aws.sns.TopicSubscription(
          `${name}-email-${i}`,
          { topic: topic.arn, protocol: "email", endpoint: email },
          { parent: this },
        ),
    );

    const runs = watchRuns(
      name,
      { clusterArn: args.analyticsClusterArn, family: args.analyticsTaskFamily, topicArn: topic.arn, tags },
      this,
    );
    const specs = alarmSpecs(args, runs.succeededRuleName);
    this.alarmNames = specs.map(
      (spec) =>
        new aws.cloudwatch.MetricAlarm(
          `${name}-${spec.key}`,
          {
            alarmDescription: spec.description,
            namespace: spec.namespace,
            metricName: spec.metricName,
            dimensions: spec.dimensions,
            statistic: spec.statistic,
            period: spec.period ?? 300,
            evaluationPeriods: spec.evaluationPeriods,
            comparisonOperator: spec.comparisonOperator,
            threshold: spec.threshold,
            treatMissingData: spec.treatMissingData,
            alarmActions: [topic.arn],
            okActions: [topic.arn],
            tags,
          },
          { parent: this },
        ).name,
    );

    new aws.sns.TopicPolicy(
      `${name}-alarms`,
      {
        arn: topic.arn,
        policy: eventRuleDeliveryPolicy(
          "EventBridgeFailedRuns",
          "sns:Publish",
          topic.arn,
          runs.failedRuleArn,
        ),
      },
      { parent: this },
    );

    const dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: `${pulumi.getProject()}-${pulumi.getStack()}`,
        dashboardBody: pulumi.output(specs.map((s) => pulumi.output(s.dimensions))).apply((dimensions) =>
          JSON.stringify({
            widgets: [
              ...specs.map((spec, i) => ({
                type: "metric",
                x: (i % 2) * 12,
                y: Math.floor(i / 2) * 6,
                width: 12,
                height: 6,
                properties: {
                  title: spec.description,
                  region: args.region,
                  stat: spec.statistic,
                  period: spec.period ?? 300,
                  metrics: [[spec.namespace, spec.metricName, ...Object.entries(dimensions[i] ?? {}).flat()]],
                  annotations: { horizontal: [{ value: spec.threshold, label: "alarm" }] },
                },
              })),
              ...(args.connectorHealth ? stateWidgets(args.connectorHealth, args.region, specs.length) : []),
            ],
          }),
        ),
      },
      { parent: this },
    );
    this.dashboardName = dashboard.dashboardName;
    this.registerOutputs({ alarmTopicArn: this.alarmTopicArn, dashboardName: this.dashboardName });
  }
}

/**
 * Two dashboard widgets after the `after` alarm widgets: how many connectors and tasks are in each
 * state (a connector that should exist and does not is `Missing`), one line per state.
 */
export function stateWidgets(
  health: { namespace: string; stack: string },
  region: string,
  after: number,
): object[] {
  const y = Math.ceil(after / 2) * 6;
  return (
    [
      ["Connectors", "Connector states", [...STATES, "MISSING"]],
      ["Tasks", "Task states", [...STATES]],
    ] as const
  ).map(([kind, title, states], i) => ({
    type: "metric",
    x: i * 12,
    y,
    width: 12,
    height: 6,
    properties: {
      title,
      region,
      stat: "Maximum",
      period: CHECK_EVERY_MINUTES * 60,
      stacked: true,
      metrics: states.map((state) => [health.namespace, stateMetric(kind, state), "Stack", health.stack]),
    },
  }));
}
