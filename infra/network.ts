// Network: a private-only VPC (no public subnets, no NAT): AWS services are reached through VPC
// endpoints, so nothing in the pipeline has a route to the internet. Or an existing VPC, whose own
// interface endpoints (or NAT) the tasks reach over HTTPS (`awsApiCidrs`).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SUBNET_NEW_BITS } from "./vpc-cidr";
import { allowedFlows, createSecurityGroups, type SecurityGroupRole } from "./security-groups";

/** Interface endpoints the Fargate tasks need without a NAT gateway (glue: the SCD2 job's catalog updates). */
export const TASK_ENDPOINT_SERVICES = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "glue"];
/** Interface endpoints the SSM agent of the tunnel host needs. */
export const SSM_ENDPOINT_SERVICES = ["ssm", "ssmmessages", "ec2messages"];

export interface NetworkArgs {
  /** AWS region, for endpoint service names. */
  region: string;
  /** CIDR block of the new VPC. Defaults to 10.42.0.0/16. Not used with `existingVpc`. */
  cidrBlock?: string;
  /** Availability zones to spread private subnets over. Defaults to 2. */
  availabilityZoneCount?: number;
  /**
   * Use this VPC instead of creating one; it must give the tasks a path to ECR, Logs and Secrets
   * Manager (and SSM for the tunnel host): interface endpoints or a NAT gateway, reached over HTTPS
   * at `awsApiCidrs` (defaults to the VPC's CIDR, i.e. its own interface endpoints).
   */
  existingVpc?: {
    vpcId: string;
    privateSubnetIds: string[];
    privateRouteTableIds: string[];
    awsApiCidrs?: string[];
  };
  /** Open the security group flows and SSM endpoints for a tunnel host. Defaults to false. */
  tunnelHost?: boolean;
  /** CIDRs of Pulumi runners allowed to reach the database, brokers and REST API. Defaults to none. */
  deployerCidrs?: string[];
  /** Port of the Connect load balancer listener. Defaults to 80. */
  connectListenerPort?: number;
  /** Open the listener to the connector health check. Defaults to false. */
  connectorHealth?: boolean;
  /** An existing database's security group to open to Connect, instead of a new one. */
  existingDatabaseGroupId?: pulumi.Input<string>;
  /** Tags for every resource. Defaults to none. */
  tags?: Record<string, string>;
}

/** CIDR of the `index`-th subnet of `newBits` extra bits inside an IPv4 `/n` block. */
export function subnetCidr(vpcCidr: string, index: number, newBits = SUBNET_NEW_BITS): string {
  const [address, prefixText] = vpcCidr.split("/");
  const prefix = Number(prefixText);
  const octets = (address as string).split(".").map(Number);
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix - newBits);
  if (index >= 2 ** newBits)
    throw new Error(`subnet ${index} does not fit in ${vpcCidr} with /${prefix + newBits}`);
  const start = base + index * size;
  const out = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
  return `${out.join(".")}/${prefix + newBits}`;
}

export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly vpcCidr: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly securityGroupIds: Partial<Record<SecurityGroupRole, pulumi.Output<string>>>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:network:Network", name, {}, opts);
    const tags = args.tags ?? {};
    const existing = args.existingVpc;
    let routeTableIds: pulumi.Input<string>[];
    if (existing) {
      this.vpcId = pulumi.output(existing.vpcId);
      this.vpcCidr = aws.ec2.getVpcOutput({ id: existing.vpcId }, { parent: this }).cidrBlock;
      this.privateSubnetIds = existing.privateSubnetIds.map((id) => pulumi.output(id));
      routeTableIds = existing.privateRouteTableIds;
    } else {
      const cidrBlock = args.cidrBlock ?? "10.42.0.0/16";
      const vpc = new aws.ec2.Vpc(
        `${name}-vpc`,
        {
          cidrBlock,
          enableDnsHostnames: true,
          enableDnsSupport: true,
          tags: { ...tags, Name: `${name}-vpc` },
        },
        { parent: this },
      );
      this.vpcId = vpc.id;
      this.vpcCidr = vpc.cidrBlock;
      const zones = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this });
      const routeTable = new aws.ec2.RouteTable(
        `${name}-private`,
        { vpcId: vpc.id, tags: { ...tags, Name: `${name}-private` } },
        { parent: this },
      );
      routeTableIds = [routeTable.id];
      this.privateSubnetIds = Array.from({ length: args.availabilityZoneCount ?? 2 }, (_, i) => {
        const subnet = new aws.ec2.Subnet(
          `${name}-private-${i}`,
          {
            vpcId: vpc.id,
            cidrBlock: subnetCidr(cidrBlock, i),
            availabilityZone: zones.names.apply((names) => {
              const zone = names[i];
              if (!zone) throw new Error(`region ${args.region} has fewer than ${i + 1} availability zones`);
              return zone;
            }),
            mapPublicIpOnLaunch: false,
            tags: { ...tags, Name: `${name}-private-${i}` },
          },
          { parent: this },
        );
        new aws.ec2.RouteTableAssociation(
          `${name}-private-${i}`,
          { subnetId: subnet.id, routeTableId: routeTable.id },
          { parent: this },
        );
        return subnet.id;
      });
    }

    // S3 through a gateway endpoint: free, and keeps change data off the internet.
    if (routeTableIds.length > 0) {
      new aws.ec2.VpcEndpoint(
        `${name}-s3`,
        {
          vpcId: this.vpcId,
          serviceName: `com.amazonaws.${args.region}.s3`,
          vpcEndpointType: "Gateway",
          routeTableIds,
          tags: { ...tags, Name: `${name}-s3` },
        },
        { parent: this },
      );
    }
    const interfaceEndpoints = !existing;
    const s3PrefixList = aws.ec2.getPrefixListOutput(
      { name: `com.amazonaws.${args.region}.s3` },
      { parent: this },
    );
    this.securityGroupIds = createSecurityGroups(
      name,
      {
        vpcId: this.vpcId,
        vpcCidr: this.vpcCidr,
        s3PrefixListId: s3PrefixList.id,
        existingDatabaseGroupId: args.existingDatabaseGroupId,
        flows: allowedFlows({
          tunnelHost: args.tunnelHost ?? false,
          deployerCidrs: args.deployerCidrs,
          interfaceEndpoints,
          awsApiCidrs: existing?.awsApiCidrs,
          connectListenerPort: args.connectListenerPort ?? 80,
          connectorHealth: args.connectorHealth ?? false,
        }),
        tags,
      },
      this,
    );
    if (interfaceEndpoints) {
      const services = [...TASK_ENDPOINT_SERVICES, ...(args.tunnelHost ? SSM_ENDPOINT_SERVICES : [])];
      for (const service of services) {
        new aws.ec2.VpcEndpoint(
          `${name}-${service.replace(".", "-")}`,
          {
            vpcId: this.vpcId,
            serviceName: `com.amazonaws.${args.region}.${service}`,
            vpcEndpointType: "Interface",
            privateDnsEnabled: true,
            subnetIds: this.privateSubnetIds,
            securityGroupIds: [this.securityGroupIds.endpoints as pulumi.Output<string>],
            tags: { ...tags, Name: `${name}-${service}` },
          },
          { parent: this },
        );
      }
    }
    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds });
  }

  /** The id of a security group role this network created. */
  group(role: SecurityGroupRole): pulumi.Output<string> {
    const id = this.securityGroupIds[role];
    if (!id) throw new Error(`network has no ${role} security group`);
    return id;
  }
}
