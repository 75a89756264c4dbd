// IAM policy documents as typed data: one place that renders statements, so tests and the
// policy pack read the same shapes the program writes.
import * as pulumi from "@pulumi/pulumi";

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface StatementInput {
  Sid?: string;
  Effect?: "Allow" | "Deny";
  Action: string[];
  Resource: pulumi.Input<pulumi.Input<string>[]>;
  Condition?: pulumi.Input<Record<string, Record<string, pulumi.Input<string | string[]>>>>;
}

/** Render statements (whose resources may be Outputs) into a JSON policy document. */
export function policyDocument(statements: pulumi.Input<StatementInput[]>): pulumi.Output<string> {
  return pulumi.output(statements).apply((resolved) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: resolved.map((s) => ({ ...s, Effect: s.Effect ?? "Allow" })),
    }),
  );
}

/** Trust policy letting an AWS service principal assume a role. */
export function assumeRolePolicy(
  service: string,
  sourceAccount?: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.output(sourceAccount).apply((account) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: service },
          Action: "sts:AssumeRole",
          ...(account ? { Condition: { StringEquals: { "aws:SourceAccount": account } } } : {}),
        },
      ],
    }),
  );
}

/**
 * Resource policy of an SNS topic or SQS queue that one EventBridge rule delivers to: the service may take
 * `action` on `resource` for that rule's events alone.
 */
export function eventRuleDeliveryPolicy(
  sid: string,
  action: string,
  resource: pulumi.Input<string>,
  ruleArn: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.all([resource, ruleArn]).apply(([resourceArn, sourceArn]) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: sid,
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: action,
          Resource: resourceArn,
          Condition: { ArnEquals: { "aws:SourceArn": sourceArn } },
        },
      ],
    }),
  );
}

/**
 * ARN of an MSK topic or consumer group, derived from the cluster ARN
 * (`arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>`). `name` may end in `*`.
 */
export function mskResourceArn(clusterArn: string, kind: "topic" | "group", name: string): string {
  const marker = ":cluster/";
  const at = clusterArn.indexOf(marker);
  if (at < 0) {
    throw new Error(`not an MSK cluster ARN: ${clusterArn}`);
  }
  return `${clusterArn.slice(0, at)}:${kind}/${clusterArn.slice(at + marker.length)}/${name}`;
}

/** Use of the bucket's customer-managed key (tasks that read or write its objects). */
export function bucketKeyStatement(kmsKeyArn: string): StatementInput {
  return { Sid: "BucketKey", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: [kmsKeyArn] };
}

/** `arn:aws:s3:::bucket/prefix/*` for the objects under a key prefix. */
export function s3ObjectsArn(bucketArn: string, prefix: string): string {
  return `${bucketArn}/${prefix.replace(/\/+$/, "")}/*`;
}
