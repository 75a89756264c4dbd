// Who may talk to whom, as data: one table of flows renders every security group rule, so the
// rules are reviewable in one place and tests compare them with the table.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The security groups of the stack, one per role. */
export type SecurityGroupRole =
  "connect" | "connectLb" | "database" | "kafka" | "analytics" | "endpoints" | "tunnel";

/** A permitted flow between two roles, or from a role to a prefix list/CIDR outside the groups. */
export interface Flow {
  /** A role, or a deployer CIDR (`cidr` set, `label` names the rule). */
  from: SecurityGroupRole | "deployer";
  cidr?: string;
  label?: string;
  to: SecurityGroupRole | "s3";
  port: number;
  why: string;
}

/**
 * The flows this stack allows. `tunnel` rows apply only when the tunnel host exists; `deployer`
 * rows let Pulumi runners (by CIDR) reach the database, the brokers and the REST API.
 */
export function allowedFlows(options: {
  tunnelHost: boolean;
  deployerCidrs?: string[];
  interfaceEndpoints: boolean;
  connectListenerPort: number;
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
  if (options.interfaceEndpoints) {
    flows.push(
      { from: "connect", to: "endpoints", port: 443, why: "ECR, CloudWatch Logs, Secrets Manager endpoints" },
      { from: "analytics", to: "endpoints", port: 443, why: "ECR and CloudWatch Logs endpoints" },
    );
  }
  if (options.tunnelHost) {
    flows.push(
      { from: "tunnel", to: "database", port: 5432, why: "Pulumi's postgresql provider through the tunnel" },
      { from: "tunnel", to: "kafka", port: 9098, why: "Pulumi's kafka provider through the tunnel" },
      {
        from: "tunnel",
        to: "connectLb",
        port: options.connectListenerPort,
        why: "the connector resources through the tunnel",
      },
    );
    if (options.interfaceEndpoints) {
      flows.push({
        from: "tunnel",
        to: "endpoints",
        port: 443,
        why: "SSM endpoints for the session manager agent",
      });
    }
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
  /** Its CIDR. */
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
    if (flow.to !== "s3") roles.add(flow.to);
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
    const ruleName = `${name}-${flow.label ?? flow.from}-to-${flow.to}-${flow.port}`;
    const common = {
      ipProtocol: "tcp",
      fromPort: flow.port,
      toPort: flow.port,
      description: flow.why,
      tags: args.tags,
    };
    if (flow.to !== "s3") {
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
            : { referencedSecurityGroupId: group(flow.to) }),
        },
        { parent },
      );
    }
  });
  return ids;
}
