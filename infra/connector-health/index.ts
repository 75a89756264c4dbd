// The connector health check: a small Lambda function in the private subnets that reads the
// Connect REST API every minute (check.ts) and writes connector and task states as metrics, which
// the `connectors-not-running` alarm and the dashboard read (docs/deploy.md).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  assumeRolePolicy,
  policyDocument,
  serviceLogGroup,
  type LogGroupSettings,
  type StatementInput,
} from "../lib";
import { handler } from "./check";

export { STATES, stateMetric } from "./check";

/** Minutes between two checks (the alarm's period is one check). */
export const CHECK_EVERY_MINUTES = 1;

export interface ConnectorHealthArgs {
  /** AWS region (ENI permissions are scoped to it). */
  region: string;
  /** The REST API the check reads: the internal load balancer's URL. */
  connectUrl: pulumi.Input<string>;
  /** Connectors that must exist; one that is missing counts as not running. */
  expectedConnectors: string[];
  /** Private subnets the function runs in. */
  subnetIds: pulumi.Input<string>[];
  /** Its security group (egress to the load balancer's listener only). */
  securityGroupId: pulumi.Input<string>;
  /** CloudWatch namespace of the metrics. */
  namespace: string;
  /** Value of the metrics' `Stack` dimension. */
  stack: string;
  /** Log group retention and tags. */
  logs: LogGroupSettings;
  /** Tags for every resource. Defaults to none. */
  tags?: Record<string, string>;
}

/** What the function's role may do: write its log group, manage its network interfaces in the VPC. */
export function healthCheckStatements(a: {
  logGroupArn: string;
  region: string;
  accountId: string;
}): StatementInput[] {
  return [
    { Sid: "Logs", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${a.logGroupArn}:*`] },
    // Lambda attaches a VPC function through network interfaces it manages with this role.
    {
      Sid: "VpcNetworkInterfaces",
      Action: [
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ],
      Resource: [`arn:aws:ec2:${a.region}:${a.accountId}:*/*`],
    },
    // Describe calls have no resource-level permissions.
    { Sid: "VpcDescribe", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], Resource: ["*"] },
  ];
}

export class ConnectorHealth extends pulumi.ComponentResource {
  readonly functionName: pulumi.Output<string>;

  constructor(name: string, args: ConnectorHealthArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:connect:ConnectorHealth", name, {}, opts);
    const tags = args.tags ?? {};
    const logGroup = serviceLogGroup(`${name}-check`, "connector-health", args.logs, this);
    const role = new aws.iam.Role(
      `${name}-check`,
      { assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com"), tags },
      { parent: this },
    );
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const policy = new aws.iam.RolePolicy(
      `${name}-check`,
      {
        role: role.id,
        policy: policyDocument(
          pulumi
            .all([logGroup.arn, accountId])
            .apply(([logGroupArn, account]) =>
              healthCheckStatements({ logGroupArn, region: args.region, accountId: account }),
            ),
        ),
      },
      { parent: this },
    );
    // The code the function runs is check.ts's handler as Pulumi serializes it (plain JavaScript,
    // no packages): what tests/infra/connector-health.test.ts runs against a real Connect worker.
    const serialized = pulumi.runtime.serializeFunction(handler, { isFactoryFunction: false });
    const fn = new aws.lambda.Function(
      `${name}-check`,
      {
        runtime: "nodejs22.x",
        role: role.arn,
        handler: serialized.then((s) => `index.${s.exportName}`),
        code: new pulumi.asset.AssetArchive({
          "index.js": new pulumi.asset.StringAsset(serialized.then((s) => s.text)),
        }),
        timeout: 20,
        memorySize: 128,
        vpcConfig: { subnetIds: args.subnetIds, securityGroupIds: [args.securityGroupId] },
        environment: {
          variables: {
            CONNECT_URL: args.connectUrl,
            EXPECTED_CONNECTORS: args.expectedConnectors.join(","),
            METRIC_NAMESPACE: args.namespace,
            STACK: args.stack,
          },
        },
        loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
        tags,
      },
      { parent: this, dependsOn: [policy] },
    );
    this.functionName = fn.name;
    const every = new aws.cloudwatch.EventRule(
      `${name}-check`,
      {
        description: "Runs the connector health check",
        scheduleExpression: `rate(${CHECK_EVERY_MINUTES} minute${CHECK_EVERY_MINUTES === 1 ? "" : "s"})`,
        tags,
      },
      { parent: this },
    );
    new aws.lambda.Permission(
      `${name}-check`,
      {
        action: "lambda:InvokeFunction",
        function: fn.name,
        principal: "events.amazonaws.com",
        sourceArn: every.arn,
      },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(`${name}-check`, { rule: every.name, arn: fn.arn }, { parent: this });
    this.registerOutputs({ functionName: this.functionName });
  }
}
