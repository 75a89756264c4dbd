// The stack's alarms as data: which metric, threshold and window each watches, from the stack's
// settings. Observability turns them into CloudWatch alarms and dashboard widgets.
import type * as pulumi from "@pulumi/pulumi";
import { CHECK_EVERY_MINUTES } from "./connector-health";
import type { ObservabilityArgs } from "./observability";
import { heartbeatWindow, scheduleGapMinutes } from "./schedule-interval";

export interface AlarmSpec {
  key: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  statistic: "Maximum" | "Minimum" | "Average" | "Sum";
  /** Seconds per evaluation period. Defaults to 300. */
  period?: number;
  comparisonOperator: string;
  threshold: number;
  evaluationPeriods: number;
  treatMissingData: "breaching" | "notBreaching" | "missing";
}

/** The alarms for a stack, as data; `succeededRunsRule` counts the SCD2 job's successful runs. */
export function alarmSpecs(args: ObservabilityArgs, succeededRunsRule: pulumi.Input<string>): AlarmSpec[] {
  const specs: AlarmSpec[] = [];
  if (args.databaseInstanceIdentifier !== undefined) {
    const db = { DBInstanceIdentifier: args.databaseInstanceIdentifier };
    specs.push(
      {
        key: "slot-lag",
        description: "Replication slot lag: the connector is behind or down, WAL is piling up",
        namespace: "AWS/RDS",
        metricName: "OldestReplicationSlotLag",
        dimensions: db,
        statistic: "Maximum",
        comparisonOperator: "GreaterThanThreshold",
        threshold: args.slotLagBytes ?? 1024 ** 3,
        evaluationPeriods: 3,
        treatMissingData: "notBreaching",
      },
      {
        key: "wal-disk",
        description: "Transaction log disk usage near max_slot_wal_keep_size: the slot will be invalidated",
        namespace: "AWS/RDS",
        metricName: "TransactionLogsDiskUsage",
        dimensions: db,
        statistic: "Maximum",
        comparisonOperator: "GreaterThanThreshold",
        threshold: Math.round((args.maxSlotWalKeepSizeMb ?? 10240) * 1024 * 1024 * 0.8),
        evaluationPeriods: 2,
        treatMissingData: "notBreaching",
      },
      {
        key: "free-storage",
        description: "RDS free storage is low",
        namespace: "AWS/RDS",
        metricName: "FreeStorageSpace",
        dimensions: db,
        statistic: "Minimum",
        comparisonOperator: "LessThanThreshold",
        threshold: args.freeStorageBytes ?? 10 * 1024 ** 3,
        evaluationPeriods: 2,
        treatMissingData: "breaching",
      },
    );
  }
  for (let broker = 1; broker <= args.kafkaBrokerCount; broker++) {
    specs.push({
      key: `kafka-disk-${broker}`,
      description: `MSK broker ${broker} data disk usage`,
      namespace: "AWS/Kafka",
      metricName: "KafkaDataLogsDiskUsed",
      dimensions: { "Cluster Name": args.kafkaClusterName, "Broker ID": String(broker) },
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: args.kafkaDiskPercent ?? 80,
      evaluationPeriods: 2,
      treatMissingData: "notBreaching",
    });
  }
  if (args.connectMinRunning > 0) {
    specs.push({
      key: "connect-tasks",
      description: "Fewer Kafka Connect workers running than configured",
      namespace: "ECS/ContainerInsights",
      metricName: "RunningTaskCount",
      dimensions: { ClusterName: args.connectClusterName, ServiceName: args.connectServiceName },
      statistic: "Minimum",
      comparisonOperator: "LessThanThreshold",
      threshold: args.connectMinRunning,
      evaluationPeriods: 2,
      treatMissingData: "breaching",
    });
  }
  if (args.connectorHealth) {
    specs.push({
      // The check runs every minute; four minutes in a row not RUNNING (or no check at all) alarms
      // within five minutes of a failure, and a rebalance that settles within three does not.
      key: "connectors-not-running",
      description:
        "A Kafka Connect connector or task is not RUNNING (or the health check cannot read the REST API)",
      namespace: args.connectorHealth.namespace,
      metricName: "NotRunning",
      dimensions: { Stack: args.connectorHealth.stack },
      statistic: "Maximum",
      period: CHECK_EVERY_MINUTES * 60,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      evaluationPeriods: 4,
      treatMissingData: "breaching",
    });
  }
  const gap = scheduleGapMinutes(args.analyticsSchedule);
  if ("problem" in gap) throw new Error(`analyticsSchedule ${args.analyticsSchedule} ${gap.problem}`);
  const window = heartbeatWindow(gap.minutes);
  specs.push(
    {
      key: "schedule-errors",
      description:
        "EventBridge Scheduler could not start the SCD2 task (the error is in its dead-letter queue)",
      namespace: "AWS/SQS",
      metricName: "NumberOfMessagesSent",
      dimensions: { QueueName: args.scheduleDeadLetterQueueName },
      statistic: "Sum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
    },
    {
      // EventBridge sends Invocations only when there were some: no data is no successful run.
      key: "scd2-heartbeat",
      description: "No successful SCD2 run within two schedule intervals",
      namespace: "AWS/Events",
      metricName: "Invocations",
      dimensions: { RuleName: succeededRunsRule },
      statistic: "Sum",
      period: window.periodSeconds,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      evaluationPeriods: window.evaluationPeriods,
      treatMissingData: "breaching",
    },
  );
  return specs;
}
