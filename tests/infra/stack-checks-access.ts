// Stack checks for who can reach what: VPC endpoints, every security group rule, the tunnel host,
// and every IAM statement of the task, execution and scheduler roles.
import { expect, it } from "vitest";
import { REGION, ACCOUNT, json } from "./harness";
import { allowed, type PolicyDocument } from "./iam-evaluate";
import { hasS3GatewayEndpoint, subnetIds, type Scenario, type StackContext } from "./stack-scenario";

const S3_PREFIX_LIST = "pl-6da54004";

const assumedBy = (service: string) => [
  { Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" },
];

/**
 * The inputs a rule named `<from>-to-<to>-<port>-<in|out>` must have: ingress on the target's
 * group from the source (a group or a deployer CIDR), egress on the source's group to the target
 * (a group, the S3 prefix list, the VPC CIDR for `vpc`, or `existingVpcAwsApiCidrs[i]` for
 * `awsApis<i>`).
 */
export function expectedRule(s: Scenario, rule: string): Record<string, unknown> {
  const match = /^(\w+)-to-(\w+)-(\d+)-(in|out)$/.exec(rule);
  if (!match) throw new Error(`not a rule name: ${rule}`);
  const [, from, to, port, direction] = match as unknown as [string, string, string, string, string];
  const group = (role: string) =>
    role === "database" && s.existingDatabaseGroupId ? s.existingDatabaseGroupId : `network-${role}-id`;
  const deployers = JSON.parse(s.config["cdc-pipeline:deployerCidrs"] ?? "[]") as string[];
  const awsApiCidrs = JSON.parse(s.config["cdc-pipeline:existingVpcAwsApiCidrs"] ?? "[]") as string[];
  const target = (): Record<string, string> => {
    if (to === "s3") return { prefixListId: S3_PREFIX_LIST };
    if (to === "vpc") return { cidrIpv4: "10.9.0.0/16" }; // the mocked aws.ec2.getVpc answer
    const awsApis = /^awsApis(\d+)$/.exec(to);
    if (awsApis) return { cidrIpv4: awsApiCidrs[Number(awsApis[1])] as string };
    return { referencedSecurityGroupId: group(to) };
  };
  const source = (): Record<string, string> => {
    const deployer = /^deployer(\d+)$/.exec(from);
    if (deployer) return { cidrIpv4: deployers[Number(deployer[1])] as string };
    return { referencedSecurityGroupId: group(from) };
  };
  const common = { ipProtocol: "tcp", fromPort: Number(port), toPort: Number(port) };
  return direction === "in"
    ? { ...common, securityGroupId: group(to), ...source() }
    : { ...common, securityGroupId: group(from), ...target() };
}

export function accessChecks({ s, m, run, input, policy }: StackContext): void {
  const vpcId = s.config["cdc-pipeline:existingVpcId"] ?? "network-vpc-id";
  const glueDatabase = `cdc_${s.stack}`.replace(/[^a-z0-9_]/g, "_");
  const glue = (resource: string) => `arn:aws:glue:${REGION}:${ACCOUNT}:${resource}`;

  it("opens exactly the security group flows the pipeline needs, rule by rule", () => {
    const rules = [
      ...run().ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
      ...run().ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"),
    ];
    const actual = rules.map((r) => {
      const { description: _why, tags: _tags, ...inputs } = r.inputs;
      return [r.name, inputs];
    });
    const expected = s.securityGroupRules.map((name) => [`network-${name}`, expectedRule(s, name)]);
    expect(actual.sort()).toEqual(expected.sort());
    for (const group of run().ofType("aws:ec2/securityGroup:SecurityGroup")) {
      expect([group.name, group.inputs.vpcId, group.inputs.ingress, group.inputs.egress]).toEqual([
        group.name,
        vpcId,
        undefined,
        undefined,
      ]);
    }
  });

  it("reaches S3 through a gateway endpoint and AWS APIs through private interface endpoints", () => {
    const existingTables = s.config["cdc-pipeline:existingPrivateRouteTableIds"];
    if (hasS3GatewayEndpoint(s)) {
      expect(input("aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3")).toMatchObject({
        vpcId,
        serviceName: `com.amazonaws.${REGION}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: existingTables ? (JSON.parse(existingTables) as string[]) : ["network-private-id"],
      });
    }
    // An existing VPC without route tables given: S3 through its own endpoint or NAT (no gateway here).
    const gateways = run()
      .ofType("aws:ec2/vpcEndpoint:VpcEndpoint")
      .filter((e) => e.inputs.vpcEndpointType === "Gateway");
    expect(gateways.map((e) => e.name)).toEqual(hasS3GatewayEndpoint(s) ? ["network-s3"] : []);
    const interfaces = run()
      .ofType("aws:ec2/vpcEndpoint:VpcEndpoint")
      .filter((e) => e.inputs.vpcEndpointType === "Interface")
      .map((e) => [
        e.inputs.serviceName,
        e.inputs.vpcId,
        e.inputs.privateDnsEnabled,
        e.inputs.subnetIds,
        e.inputs.securityGroupIds,
      ]);
    const services = s.features.newVpc
      ? [
          "ecr.api",
          "ecr.dkr",
          "logs",
          "secretsmanager",
          "glue",
          ...(s.features.tunnelHost ? ["ssm", "ssmmessages", "ec2messages"] : []),
        ]
      : [];
    expect(interfaces).toEqual(
      services.map((service) => [
        `com.amazonaws.${REGION}.${service}`,
        vpcId,
        true,
        subnetIds(s),
        ["network-endpoints-id"],
      ]),
    );
  });

  it("spreads private subnets (no public ones, no NAT) over the configured AZs", () => {
    if (!s.features.newVpc) {
      expect(run().ofType("aws:ec2/vpc:Vpc")).toEqual([]);
      return;
    }
    const cidr = s.config["cdc-pipeline:vpcCidr"] ?? "10.42.0.0/16";
    expect(input("aws:ec2/vpc:Vpc", "network-vpc")).toMatchObject({
      cidrBlock: cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
    });
    const [a, b] = cidr.split(".");
    const subnets = run()
      .ofType("aws:ec2/subnet:Subnet")
      .map((r) => [r.name, r.inputs.cidrBlock, r.inputs.availabilityZone, r.inputs.mapPublicIpOnLaunch]);
    expect(subnets.sort()).toEqual(
      Array.from({ length: s.features.azCount }, (_, i) => [
        `network-private-${i}`,
        `${a}.${b}.${i * 16}.0/20`,
        `${REGION}${"abc"[i]}`,
        false,
      ]),
    );
    const associations = run()
      .ofType("aws:ec2/routeTableAssociation:RouteTableAssociation")
      .map((r) => [r.inputs.subnetId, r.inputs.routeTableId]);
    expect(associations.sort()).toEqual(subnetIds(s).map((id) => [id, "network-private-id"]));
    // The private route table has no routes of its own: only the S3 gateway endpoint adds one.
    expect(input("aws:ec2/routeTable:RouteTable", "network-private").routes).toBeUndefined();
  });

  if (s.features.tunnelHost) {
    it("runs the tunnel host privately, reachable through SSM only", () => {
      expect(json(input("aws:iam/role:Role", "tunnel-role").assumeRolePolicy)).toEqual({
        Version: "2012-10-17",
        Statement: assumedBy("ec2.amazonaws.com"),
      });
      expect(input("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "tunnel-ssm").policyArn).toBe(
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      );
      const instance = run().one("aws:ec2/instance:Instance", "tunnel-instance");
      expect(instance.inputs).toMatchObject({
        ami: "ami-0123456789abcdef0",
        instanceType: "t3.micro",
        subnetId: subnetIds(s)[0],
        vpcSecurityGroupIds: ["network-tunnel-id"],
        iamInstanceProfile: "tunnel-profile",
        associatePublicIpAddress: false,
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
        rootBlockDevice: { encrypted: true, volumeSize: 8 },
      });
      expect(instance.ignoreChanges).toEqual(["ami"]);
    });
  }

  it("gives the Connect task role only this pipeline's topics, groups, prefix and secret", () => {
    const connectGroup = `cdc-connect-${s.stack}`;
    expect(policy("connect-task")).toEqual([
      {
        Sid: "MskCluster",
        Effect: "Allow",
        Action: [
          "kafka-cluster:Connect",
          "kafka-cluster:DescribeCluster",
          "kafka-cluster:WriteDataIdempotently",
        ],
        Resource: [m.kafkaClusterArn],
      },
      {
        Sid: "MskTopics",
        Effect: "Allow",
        Action: [
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:DescribeTopicDynamicConfiguration",
          "kafka-cluster:ReadData",
          "kafka-cluster:WriteData",
        ],
        Resource: [
          "cdc.commerce.products",
          "cdc.commerce.users",
          "__debezium-heartbeat.cdc",
          "cdc.commerce.cdc_signal",
          `${connectGroup}-configs`,
          `${connectGroup}-offsets`,
          `${connectGroup}-status`,
        ].map(m.kafkaTopicArn),
      },
      {
        Sid: "MskGroups",
        Effect: "Allow",
        Action: ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
        Resource: [m.kafkaGroupArn(connectGroup), m.kafkaGroupArn("connect-cdc-s3-sink")],
      },
      {
        Sid: "S3SinkWrite",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: [`${m.bucketArn}/cdc_data/*`],
      },
      {
        Sid: "CdcSecret",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        Resource: [m.cdcSecretArn],
      },
      ...bucketKey(s, m.kmsKeyArn),
    ]);
  });

  it("gives the analytics task read on raw changes, read/write on the SCD2 prefix, its Glue tables' update only", () => {
    expect(policy("analytics-task")).toEqual([
      {
        Sid: "ListOwnPrefixes",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [m.bucketArn],
        Condition: { StringLike: { "s3:prefix": ["cdc_data", "cdc_data/*", "analytics", "analytics/*"] } },
      },
      {
        Sid: "ReadRawChanges",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: [`${m.bucketArn}/cdc_data/*`],
      },
      {
        Sid: "ReadWriteScd2",
        Effect: "Allow",
        Action: [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
        ],
        Resource: [`${m.bucketArn}/analytics/*`],
      },
      {
        Sid: "KeepCatalogColumns",
        Effect: "Allow",
        Action: ["glue:GetTable", "glue:UpdateTable"],
        Resource: [glue("catalog"), glue(`database/${glueDatabase}`), glue(`table/${glueDatabase}/*`)],
      },
      ...bucketKey(s, m.kmsKeyArn),
    ]);
  });

  it.each([
    ["glue:GetTable", "table/DB/products", "allow"],
    ["glue:UpdateTable", "table/DB/products_current", "allow"],
    ["glue:UpdateTable", "table/other_db/products", "implicit"],
    ["glue:CreateTable", "database/DB", "implicit"],
    ["glue:DeleteTable", "table/DB/products", "implicit"],
    ["glue:UpdateDatabase", "database/DB", "implicit"],
    ["glue:GetTables", "database/DB", "implicit"],
    ["glue:BatchDeleteTableVersion", "table/DB/products", "implicit"],
  ])("lets the analytics task %s on %s: %s", (action, resource, expected) => {
    const document = { Version: "2012-10-17", Statement: policy("analytics-task") } as PolicyDocument;
    expect(allowed(document, action, glue(resource.replace("DB", glueDatabase)))).toBe(expected);
  });

  it("lets the execution roles pull their own image and write their own logs only", () => {
    for (const [part, image] of [
      ["connect", "worker"],
      ["analytics", "job"],
    ] as const) {
      const repo = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${part}-${image}-repo`;
      const logGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/cdc/cdc-pipeline/${s.stack}/${part}`;
      expect(policy(`${part}-execution`)).toEqual([
        { Sid: "EcrAuth", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
        {
          Sid: "EcrPull",
          Effect: "Allow",
          Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
          Resource: [repo],
        },
        {
          Sid: "Logs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: [`${logGroup}:*`],
        },
      ]);
      for (const role of [`${part}-execution`, `${part}-task`]) {
        expect(json(input("aws:iam/role:Role", role).assumeRolePolicy)).toEqual({
          Version: "2012-10-17",
          Statement: assumedBy("ecs-tasks.amazonaws.com"),
        });
        expect(input("aws:iam/rolePolicy:RolePolicy", role).role).toBe(`${role}-id`);
      }
    }
  });

  it("lets the scheduler run only the SCD2 task on this cluster, tag only its tasks, pass only its roles", () => {
    expect(json(input("aws:iam/role:Role", "analytics-scheduler").assumeRolePolicy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          ...assumedBy("scheduler.amazonaws.com")[0],
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
        },
      ],
    });
    expect(policy("analytics-scheduler")).toEqual([
      {
        Sid: "RunScd2Task",
        Effect: "Allow",
        Action: ["ecs:RunTask"],
        Resource: [m.scd2TaskDefinitionArn],
        Condition: { ArnEquals: { "ecs:cluster": m.ecsClusterArn } },
      },
      {
        Sid: "TagScd2Task",
        Effect: "Allow",
        Action: ["ecs:TagResource"],
        Resource: [`arn:aws:ecs:${REGION}:${ACCOUNT}:task/${m.ecsClusterName}/*`],
        Condition: { StringEquals: { "ecs:CreateAction": "RunTask" } },
      },
      {
        Sid: "PassTaskRoles",
        Effect: "Allow",
        Action: ["iam:PassRole"],
        Resource: [m.roleArn("analytics-task"), m.roleArn("analytics-execution")],
      },
      {
        // Runs it cannot start go to the dead-letter queue (the schedule-errors alarm watches it).
        Sid: "DeadLetters",
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: [m.deadLetterQueueArn],
      },
    ]);
  });
}

function bucketKey(s: Scenario, kmsKeyArn: string) {
  return s.kms
    ? [
        {
          Sid: "BucketKey",
          Effect: "Allow",
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: [kmsKeyArn],
        },
      ]
    : [];
}
