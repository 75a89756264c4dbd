// TunnelHost: a small private EC2 instance reachable only through AWS Systems Manager, the
// target of port-forwarding sessions when Pulumi runs outside the VPC (docs/deploy.md).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy } from "./lib";

/** Latest Amazon Linux 2023 (SSM agent and EC2 Instance Connect preinstalled), from AWS's public parameter. */
export const AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

export interface TunnelHostArgs {
  /** A private subnet. */
  subnetId: pulumi.Input<string>;
  /** The tunnel security group (egress to the database, brokers, Connect load balancer only). */
  securityGroupId: pulumi.Input<string>;
  /** Instance type. Defaults to "t3.micro". */
  instanceType?: string;
  /** Tags for every resource. Defaults to none. */
  tags?: Record<string, string>;
}

export class TunnelHost extends pulumi.ComponentResource {
  readonly instanceId: pulumi.Output<string>;

  constructor(name: string, args: TunnelHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:network:TunnelHost", name, {}, opts);
    const tags = args.tags ?? {};
    const role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"), tags },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-ssm`,
      { role: role.name, policyArn: aws.iam.ManagedPolicy.AmazonSSMManagedInstanceCore },
      { parent: this },
    );
    const profile = new aws.iam.InstanceProfile(
      `${name}-profile`,
      { role: role.name, tags },
      { parent: this },
    );
    const ami = aws.ssm.getParameterOutput({ name: AMI_PARAMETER }, { parent: this });
    const instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        ami: ami.value,
        instanceType: args.instanceType ?? "t3.micro",
        subnetId: args.subnetId,
        vpcSecurityGroupIds: [args.securityGroupId],
        iamInstanceProfile: profile.name,
        associatePublicIpAddress: false,
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
        rootBlockDevice: { encrypted: true, volumeSize: 8 },
        tags: { ...tags, Name: `${name}-tunnel` },
      },
      // A new AMI release must not replace a host someone may be tunnelling through.
      { parent: this, ignoreChanges: ["ami"] },
    );
    this.instanceId = instance.id;
    this.registerOutputs({ instanceId: this.instanceId });
  }
}
