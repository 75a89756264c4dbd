// Rules one resource must satisfy on its own. Each validates by type token (so tests can feed plain
// `{ type, props }` arguments) and reports what is wrong in words an operator can act on.
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { EPHEMERAL_TAG } from "../lib/naming";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- resource inputs are untyped here

/** Actions that have no resource-level permissions, so `Resource: "*"` is the only way to grant them. */
export const WILDCARD_RESOURCE_ACTIONS = [
  "ecr:GetAuthorizationToken",
  // What Lambda needs to attach a VPC function (the connector health check).
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
];

/** True when the resource carries the ephemeral-stack tag (set by infra/lib standardTags). */
export function isEphemeral(props: Props): boolean {
  return props.tags?.[EPHEMERAL_TAG] === "true";
}

function rule(
  name: string,
  description: string,
  type: string | string[],
  check: (props: Props, report: (message: string) => void, args: ResourceValidationArgs) => void,
): ResourceValidationPolicy {
  const types = Array.isArray(type) ? type : [type];
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      if (types.includes(args.type)) check(args.props, (message) => reportViolation(message), args);
    },
  };
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

interface PolicyStatement {
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
}

/** Statements of a JSON policy document; undefined while the document is still unknown (preview). */
export function statementsOf(document: unknown): PolicyStatement[] | undefined {
  if (typeof document !== "string") return undefined;
  return asArray((JSON.parse(document) as { Statement?: PolicyStatement | PolicyStatement[] }).Statement);
}

export const resourcePolicies: ResourceValidationPolicy[] = [
  rule(
    "rds-private",
    "RDS instances are never publicly accessible.",
    "aws:rds/instance:Instance",
    (p, report) => {
      if (p.publiclyAccessible === true)
        report("publiclyAccessible must be false: the database lives in private subnets");
    },
  ),
  rule("rds-encrypted", "RDS storage is encrypted at rest.", "aws:rds/instance:Instance", (p, report) => {
    if (p.storageEncrypted !== true) report("storageEncrypted must be true");
  }),
  rule(
    "rds-managed-master-password",
    "The RDS master password is generated and kept by RDS in Secrets Manager, never in the state.",
    "aws:rds/instance:Instance",
    (p, report) => {
      if (p.manageMasterUserPassword !== true) report("manageMasterUserPassword must be true");
      if (p.password !== undefined) report("password must not be set (it would be stored in the state)");
    },
  ),
  rule(
    "rds-protected-unless-ephemeral",
    "Long-lived databases have deletion protection, backups and a final snapshot.",
    "aws:rds/instance:Instance",
    (p, report) => {
      if (isEphemeral(p)) return;
      if (p.deletionProtection !== true) report("deletionProtection must be true on a long-lived stack");
      if (p.skipFinalSnapshot === true) report("skipFinalSnapshot must be false on a long-lived stack");
      if (!(Number(p.backupRetentionPeriod) >= 1)) report("backupRetentionPeriod must be at least 1 day");
    },
  ),
  rule(
    "s3-no-force-destroy-unless-ephemeral",
    "Long-lived buckets cannot be deleted with their contents.",
    "aws:s3/bucket:Bucket",
    (p, report) => {
      if (p.forceDestroy === true && !isEphemeral(p))
        report("forceDestroy is only allowed on ephemeral stacks");
    },
  ),
  rule(
    "s3-block-public-access",
    "Public access blocks turn on all four settings.",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    (p, report) => {
      for (const key of [
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
      ]) {
        if (p[key] !== true) report(`${key} must be true`);
      }
    },
  ),
  rule(
    "msk-iam-and-tls",
    "MSK clients authenticate with IAM over TLS; brokers are not public.",
    ["aws:msk/cluster:Cluster", "aws:msk/serverlessCluster:ServerlessCluster"],
    (p, report, args) => {
      if (args.type === "aws:msk/serverlessCluster:ServerlessCluster") {
        if (p.clientAuthentication?.sasl?.iam?.enabled !== true)
          report("clientAuthentication.sasl.iam.enabled must be true");
        return;
      }
      if (p.clientAuthentication?.sasl?.iam !== true) report("clientAuthentication.sasl.iam must be true");
      if (p.clientAuthentication?.unauthenticated === true) report("unauthenticated access must be off");
      const transit = p.encryptionInfo?.encryptionInTransit;
      if (transit?.clientBroker !== "TLS")
        report('encryptionInfo.encryptionInTransit.clientBroker must be "TLS"');
      if (transit?.inCluster === false)
        report("encryptionInfo.encryptionInTransit.inCluster must not be false");
      const publicAccess = p.brokerNodeGroupInfo?.connectivityInfo?.publicAccess?.type;
      if (publicAccess !== undefined && publicAccess !== "DISABLED")
        report("brokers must not have public access");
    },
  ),
  rule(
    "msk-no-auto-create-topics",
    "Brokers never create topics implicitly; the stack declares every topic.",
    "aws:msk/configuration:Configuration",
    (p, report) => {
      if (typeof p.serverProperties !== "string") return;
      if (
        !p.serverProperties
          .split("\n")
          .map((l: string) => l.trim())
          .includes("auto.create.topics.enable=false")
      ) {
        report("serverProperties must contain auto.create.topics.enable=false");
      }
    },
  ),
  rule(
    "iam-least-privilege",
    'IAM policies name their actions and resources: no "*" actions, no "*" resources except for actions without resource-level permissions.',
    ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"],
    (p, report) => {
      for (const statement of statementsOf(p.policy) ?? []) {
        if (statement.Effect === "Deny") continue;
        const actions = asArray(statement.Action);
        for (const action of actions.filter((a) => a === "*" || a.endsWith(":*")))
          report(`action "${action}" is a wildcard`);
        if (asArray(statement.Resource).includes("*")) {
          const scoped = actions.filter((a) => !WILDCARD_RESOURCE_ACTIONS.includes(a));
          if (scoped.length > 0) report(`resource "*" granted for ${scoped.join(", ")}`);
        }
      }
    },
  ),
  rule(
    "no-ingress-from-anywhere",
    "No security group accepts traffic from 0.0.0.0/0 or ::/0.",
    [
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      "aws:ec2/securityGroup:SecurityGroup",
      "aws:ec2/securityGroupRule:SecurityGroupRule",
    ],
    (p, report, args) => {
      const open = (cidrs: unknown) =>
        asArray(cidrs as string | string[]).some((c) => c === "0.0.0.0/0" || c === "::/0");
      if (
        args.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" &&
        (open(p.cidrIpv4) || open(p.cidrIpv6))
      ) {
        report("ingress from anywhere");
      }
      if (
        args.type === "aws:ec2/securityGroupRule:SecurityGroupRule" &&
        p.type === "ingress" &&
        (open(p.cidrBlocks) || open(p.ipv6CidrBlocks))
      ) {
        report("ingress from anywhere");
      }
      for (const ingress of asArray(p.ingress as Props[] | undefined)) {
        if (open(ingress.cidrBlocks) || open(ingress.ipv6CidrBlocks)) report("inline ingress from anywhere");
      }
    },
  ),
  rule(
    "lb-internal",
    "Load balancers are internal: the Connect REST API is not exposed.",
    "aws:lb/loadBalancer:LoadBalancer",
    (p, report) => {
      if (p.internal !== true) report("internal must be true");
    },
  ),
  rule(
    "tasks-without-public-ip",
    "Fargate tasks (services and scheduled runs) get no public IP.",
    ["aws:ecs/service:Service", "aws:scheduler/schedule:Schedule"],
    (p, report) => {
      const network = p.networkConfiguration ?? p.target?.ecsParameters?.networkConfiguration;
      if (network?.assignPublicIp === true) report("assignPublicIp must be false");
    },
  ),
  rule(
    "log-retention-set",
    "Log groups expire their events.",
    "aws:cloudwatch/logGroup:LogGroup",
    (p, report) => {
      if (!(Number(p.retentionInDays) > 0)) report("retentionInDays must be set");
    },
  ),
  rule(
    "connector-secrets-as-placeholders",
    "Connector configs carry secrets only as config-provider placeholders, resolved by the workers.",
    "pulumi-nodejs:dynamic/connect:KafkaConnector",
    (p, report) => {
      for (const [key, value] of Object.entries((p.config ?? {}) as Record<string, unknown>)) {
        if (!/password|secret|credential|\.key$/i.test(key) || typeof value !== "string") continue;
        // Split as Kafka's ConfigTransformer does: the path ends at the second colon, the key is the rest.
        const placeholder = /^\$\{([A-Za-z0-9_-]+):(?:([^}]*?):)?([^}]+?)\}$/.exec(value);
        if (!placeholder)
          report(
            `${key} must be a config-provider placeholder such as \${secretsmanager:<secret name>:password}`,
          );
        else if (placeholder[3]!.includes(":"))
          report(
            `${key}: Kafka Connect reads this placeholder as path "${placeholder[2] ?? ""}", key "${placeholder[3]}"; ` +
              "reference the secret by its name, not its ARN: ${secretsmanager:<secret name>:password}",
          );
      }
    },
  ),
];
