// The SCD2 job's scheduled runs as EventBridge sees them: ECS "Task State Change" events of its
// task family. A failed run goes to the alarm topic; a successful one is counted, so that no
// success within two schedule gaps raises the no-successful-run alarm (docs/deploy.md).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { eventRuleDeliveryPolicy } from "./lib";

/** The part every pattern shares: a task of `family` on `clusterArn` that has stopped. */
function stoppedTask(clusterArn: string, family: string): Record<string, unknown> {
  const taskDefinitionPrefix = clusterArn.replace(/:cluster\/.*$/, `:task-definition/${family}:`);
  return {
    clusterArn: [clusterArn],
    taskDefinitionArn: [{ prefix: taskDefinitionPrefix }],
    lastStatus: ["STOPPED"],
  };
}

const EVENT = { source: ["aws.ecs"], "detail-type": ["ECS Task State Change"] };

/**
 * A run that failed, however: it never started (`TaskFailedToStart`: the image, the network, a
 * secret; its container has no exit code), it was stopped by someone or by ECS (any other stop
 * code), or the job exited with a code other than 0.
 */
export function failedRunPattern(clusterArn: string, family: string): object {
  return {
    ...EVENT,
    detail: {
      ...stoppedTask(clusterArn, family),
      $or: [
        { stopCode: [{ "anything-but": "EssentialContainerExited" }] },
        { containers: { exitCode: [{ "anything-but": 0 }] } },
        { containers: { exitCode: [{ exists: false }] } },
      ],
    },
  };
}

/** A run that succeeded: the job's container exited by itself with code 0. */
export function succeededRunPattern(clusterArn: string, family: string): object {
  return {
    ...EVENT,
    detail: {
      ...stoppedTask(clusterArn, family),
      stopCode: ["EssentialContainerExited"],
      containers: { exitCode: [0] },
    },
  };
}

export interface RunEventsArgs {
  /** ECS cluster the job runs on. */
  clusterArn: pulumi.Input<string>;
  /** The job's task definition family. */
  family: string;
  /** Where failed runs are reported. */
  topicArn: pulumi.Input<string>;
  tags: Record<string, string>;
}

/**
 * The rules over the job's runs: failed runs to the topic; successful ones to a queue, which only
 * gives the rule a target so that EventBridge counts its `Invocations` (the heartbeat metric).
 */
export function watchRuns(
  name: string,
  args: RunEventsArgs,
  parent: pulumi.Resource,
): { failedRuleArn: pulumi.Output<string>; succeededRuleName: pulumi.Output<string> } {
  const pattern = (of: (clusterArn: string, family: string) => object) =>
    pulumi.output(args.clusterArn).apply((clusterArn) => JSON.stringify(of(clusterArn, args.family)));
  const failed = new aws.cloudwatch.EventRule(
    `${name}-scd2-failed`,
    {
      description: "SCD2 job run failed: not started, stopped, or a non-zero exit code",
      eventPattern: pattern(failedRunPattern),
      tags: args.tags,
    },
    { parent },
  );
  new aws.cloudwatch.EventTarget(
    `${name}-scd2-failed`,
    { rule: failed.name, arn: args.topicArn },
    { parent },
  );

  const succeeded = new aws.cloudwatch.EventRule(
    `${name}-scd2-succeeded`,
    {
      description: "SCD2 job run succeeded (exit code 0)",
      eventPattern: pattern(succeededRunPattern),
      tags: args.tags,
    },
    { parent },
  );
  const runs = new aws.sqs.Queue(
    `${name}-scd2-runs`,
    { messageRetentionSeconds: 24 * 3600, sqsManagedSseEnabled: true, tags: args.tags },
    { parent },
  );
  new aws.sqs.QueuePolicy(
    `${name}-scd2-runs`,
    {
      queueUrl: runs.url,
      policy: eventRuleDeliveryPolicy("EventBridgeSucceededRuns", "sqs:SendMessage", runs.arn, succeeded.arn),
    },
    { parent },
  );
  new aws.cloudwatch.EventTarget(
    `${name}-scd2-succeeded`,
    { rule: succeeded.name, arn: runs.arn },
    { parent },
  );
  return { failedRuleArn: failed.arn, succeededRuleName: succeeded.name };
}
