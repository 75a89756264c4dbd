// Who may talk to whom, as data: one table of flows renders every security group rule, so the
// rules are reviewable in one place and tests compare them with the table.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The security groups of the stack, one per role. */
export type SecurityGroupRole =
  "connect" | "connectLb" | "database" | "kafka" | "analytics" | "endpoints" | "tunnel" | "health";

/** A permitted flow between two roles, or between a role and a prefix list/CIDR outside the groups. */
export interface Flow {
  /** A role, or a deployer CIDR (`cidr` set, `label` names the rule). */
  from: SecurityGroupRole | "deployer";
  cidr?: string;
  label?: string;
  /**
   * A role, the S3 prefix list, or AWS APIs outside the stack's groups (egress only): `toCidr`, or
   * the VPC's CIDR when unset; `toLabel` names the rule.
   */
  to: SecurityGroupRole | "s3" | "awsApis";
  toCidr?: string;
  toLabel?: string;
  port: number;
  why: string;
}

/**
 * The flows this stack allows. `tunnel` rows apply only when the tunnel host exists; `deployer`
 * rows let Pulumi runners (by CIDR) reach the database, the brokers and the REST API. Without the
 * stack's own interface endpoints (an existing VPC), the tasks and the tunnel host reach ECR,
 * CloudWatch Logs, Secrets Manager and SSM over HTTPS at `awsApiCidrs`, by default the VPC's CIDR
 * (the VPC's own interface endpoints).
 */
export function allowedFlows(options: {
  tunnelHost: boolean;
  deployerCidrs?: string[];
  interfaceEndpoints: boolean;
  /** Only without interface endpoints. Defaults to the VPC's CIDR. */
  awsApiCidrs?: string[];
  connectListenerPort: number;
  /** The connector health check reads the REST API (stacks that deploy the connectors). */
  connectorHealth?: boolean;
}): Flow[] {
  const flows: Flow[] = [
    { from: "connect", to: "database", port: 5432, why: "Debezium streams the replication slot" },
    { from: "connect", to: "kafka", port: 9098, why: "Connect workers use MSK with IAM auth over TLS" },
    { from: "connect", to: "connect", port: 8083, why: "workers forward REST requests to the leader" },
    { from: "connectLb", to: "connect", port: 8083, why: "the internal load balancer reaches the REST API" },
    // The REST API has no authentication, so the listener is open only to Pulumi (the tunnel host
    // and the deployer CIDRs, below), not to the VPC. The workers never call it: they forward
    // requests to the leader at its task address (connect -> connect 8083), the container health
    // check uses localhost, and the target group health check is the connectLb -> connect flow.
    { from: "connect", to: "s3", port: 443, why: "the S3 sink writes through the gateway endpoint" },
    {
      from: "analytics",
      to: "s3",
      port: 443,
      why: "the SCD2 job reads and writes S3 through the gateway endpoint",
    },
  ];
  // Without egress to them the tasks cannot pull their image, write logs or read the CDC secret:
  // the AWS provider drops a group's default allow-all egress, so only these rules let them out.
  const awsApis: Pick<Flow, "to" | "toCidr" | "toLabel">[] = options.interfaceEndpoints
    ? [{ to: "endpoints" }]
    : options.awsApiCidrs
      ? options.awsApiCidrs.map((cidr, i) => ({ to: "awsApis", toCidr: cidr, toLabel: `awsApis${i}` }))
      : [{ to: "awsApis", toLabel: "vpc" }];
  const where = (a: Pick<Flow, "toCidr">) =>
    options.interfaceEndpoints ? "endpoints" : `at ${a.toCidr ?? "the VPC CIDR"} (endpoints or NAT)`;
  for (const a of awsApis) {
    flows.push(
      { from: "connect", ...a, port: 443, why: `ECR, CloudWatch Logs, Secrets Manager ${where(a)}` },
      { from: "analytics", ...a, port: 443, why: `ECR and CloudWatch Logs ${where(a)}` },
    );
  }
  if (options.tunnelHost) {
    flows.push(
      { from: "tunnel", to: "database", port: 5432, why: "Pulumi postgresql provider through the tunnel" },
      { from: "tunnel", to: "kafka", port: 9098, why: "Pulumi kafka provider through the tunnel" },
      {
        from: "tunnel",
        to: "connectLb",
        port: options.connectListenerPort,
        why: "the connector resources through the tunnel",
      },
    );
    for (const a of awsApis) {
      flows.push({ from: "tunnel", ...a, port: 443, why: `SSM for the session manager agent, ${where(a)}` });
    }
  }
  if (options.connectorHealth) {
    // Its metrics go out as log lines through the Lambda service, so it needs no AWS API egress.
    flows.push({
      from: "health",
      to: "connectLb",
      port: options.connectListenerPort,
      why: "the connector health check reads /connectors?expand=status",
    });
  }
  (options.deployerCidrs ?? []).forEach((cidr, i) => {
    const deployer = { from: "deployer" as const, cidr, label: `deployer${i}` };
    flows.push(
      { ...deployer, to: "database", port: 5432, why: `Pulumi runners (${cidr}): postgresql provider` },
      { ...deployer, to: "kafka", port: 9098, why: `Pulumi runners (${cidr}): kafka provider` },
      {
        ...deployer,
        to: "connectLb",
        port: options.connectListenerPort,
        why: `Pulumi runners (${cidr}): connectors`,
      },
    );
  });
  return flows;
}

export interface SecurityGroupsArgs {
  /** VPC the groups belong to. */
  vpcId: pulumi.Input<string>;
  /** Its CIDR (destination of `awsApis` flows without a CIDR of their own). */
  vpcCidr: pulumi.Input<string>;
  /** Prefix list of the S3 gateway endpoint (egress to S3). */
  s3PrefixListId: pulumi.Input<string>;
  /** The flows to render (from `allowedFlows`). */
  flows: Flow[];
  /** An existing database security group to add ingress rules to, instead of creating one. */
  existingDatabaseGroupId?: pulumi.Input<string>;
  /** Tags for every group and rule. */
  tags: Record<string, string>;
}

/** Create one group per role used by `flows`, then an ingress and an egress rule per flow. */
export function createSecurityGroups(
  name: string,
  args: SecurityGroupsArgs,
  parent: pulumi.Resource,
): Partial<Record<SecurityGroupRole, pulumi.Output<string>>> {
  const roles = new Set<SecurityGroupRole>();
  for (const flow of args.flows) {
    if (flow.from !== "deployer") roles.add(flow.from);
    if (flow.to !== "s3" && flow.to !== "awsApis") roles.add(flow.to);
  }
  const ids: Partial<Record<SecurityGroupRole, pulumi.Output<string>>> = {};
  for (const role of roles) {
    if (role === "database" && args.existingDatabaseGroupId) {
      ids.database = pulumi.output(args.existingDatabaseGroupId);
      continue;
    }
    ids[role] = new aws.ec2.SecurityGroup(
      `${name}-${role}`,
      { vpcId: args.vpcId, description: `cdc ${role}`, tags: { ...args.tags, Name: `${name}-${role}` } },
      { parent },
    ).id;
  }
  const group = (role: SecurityGroupRole) => ids[role] as pulumi.Output<string>;
  args.flows.forEach((flow) => {
    const ruleName = `${name}-${flow.label ?? flow.from}-to-${flow.toLabel ?? flow.to}-${flow.port}`;
    const common = {
      ipProtocol: "tcp",
      fromPort: flow.port,
      toPort: flow.port,
      description: flow.why,
      tags: args.tags,
    };
    // S3 and AWS APIs outside the stack's groups: egress only (their side is not ours to open).
    if (flow.to !== "s3" && flow.to !== "awsApis") {
      new aws.vpc.SecurityGroupIngressRule(
        `${ruleName}-in`,
        {
          ...common,
          securityGroupId: group(flow.to),
          ...(flow.from === "deployer"
            ? { cidrIpv4: flow.cidr }
            : { referencedSecurityGroupId: group(flow.from) }),
        },
        { parent },
      );
    }
    if (flow.from !== "deployer") {
      new aws.vpc.SecurityGroupEgressRule(
        `${ruleName}-out`,
        {
          ...common,
          securityGroupId: group(flow.from),
          ...(flow.to === "s3"
            ? { prefixListId: args.s3PrefixListId }
            : flow.to === "awsApis"
              ? { cidrIpv4: flow.toCidr ?? args.vpcCidr }
              : { referencedSecurityGroupId: group(flow.to) }),
        },
        { parent },
      );
    }
  });
  return ids;
}
