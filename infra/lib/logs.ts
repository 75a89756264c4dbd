// CloudWatch log groups with one retention policy per stack.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface LogGroupSettings {
  /** Days to keep logs (a value CloudWatch accepts). */
  retentionDays: number;
  /** Tags applied to the log group. */
  tags: Record<string, string>;
}

/** A log group named `/cdc/<project>/<stack>/<purpose>`, parented to `parent`. */
export function serviceLogGroup(
  resourceName: string,
  purpose: string,
  settings: LogGroupSettings,
  parent: pulumi.Resource,
  kmsKeyArn?: pulumi.Input<string>,
): aws.cloudwatch.LogGroup {
  return new aws.cloudwatch.LogGroup(
    resourceName,
    {
      name: `/cdc/${pulumi.getProject()}/${pulumi.getStack()}/${purpose}`,
      retentionInDays: settings.retentionDays,
      kmsKeyId: kmsKeyArn,
      tags: settings.tags,
    },
    { parent },
  );
}
