// The policy pack: each rule gets a resource (or stack) that passes and one that fails, called
// directly through validateResource / validateStack with fake arguments.
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { resourcePolicies } from "../../infra/policy/resource-policies";
import { stackPolicies } from "../../infra/policy/stack-policies";

const LONG_LIVED = { tags: { "cdc:ephemeral": "false" } };
const EPHEMERAL = { tags: { "cdc:ephemeral": "true" } };

function resourcePolicy(name: string): ResourceValidationPolicy {
  const policy = resourcePolicies.find((p) => p.name === name);
  if (!policy) throw new Error(`no policy ${name}`);
  return policy;
}

async function violations(name: string, type: string, props: Record<string, unknown>): Promise<string[]> {
  const found: string[] = [];
  const args = {
    type,
    props,
    urn: `urn:pulumi:dev::cdc-pipeline::${type}::r`,
    name: "r",
    opts: { protect: false },
  };
  const validate = resourcePolicy(name).validateResource;
  if (!validate) throw new Error(`policy ${name} has no validateResource`);
  for (const v of Array.isArray(validate) ? validate : [validate]) {
    await v(args as unknown as ResourceValidationArgs, (message) => found.push(message));
  }
  return found;
}

const GOOD_RDS = {
  ...LONG_LIVED,
  publiclyAccessible: false,
  storageEncrypted: true,
  manageMasterUserPassword: true,
  deletionProtection: true,
  skipFinalSnapshot: false,
  backupRetentionPeriod: 7,
};
const GOOD_MSK = {
  clientAuthentication: { sasl: { iam: true }, unauthenticated: false },
  encryptionInfo: { encryptionInTransit: { clientBroker: "TLS", inCluster: true } },
  brokerNodeGroupInfo: { connectivityInfo: { publicAccess: { type: "DISABLED" } } },
};
const policyJson = (statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

// [policy, type, passing props, failing props, expected messages for the failing props]
const RESOURCE_CASES: [string, string, Record<string, unknown>, Record<string, unknown>, string[]][] = [
  [
    "rds-private",
    "aws:rds/instance:Instance",
    GOOD_RDS,
    { ...GOOD_RDS, publiclyAccessible: true },
    ["publiclyAccessible must be false: the database lives in private subnets"],
  ],
  [
    "rds-encrypted",
    "aws:rds/instance:Instance",
    GOOD_RDS,
    { ...GOOD_RDS, storageEncrypted: false },
    ["storageEncrypted must be true"],
  ],
  [
    "rds-managed-master-password",
    "aws:rds/instance:Instance",
    GOOD_RDS,
    { ...GOOD_RDS, manageMasterUserPassword: undefined, password: "hunter2" },
    ["manageMasterUserPassword must be true", "password must not be set (it would be stored in the state)"],
  ],
  [
    "rds-protected-unless-ephemeral",
    "aws:rds/instance:Instance",
    { ...GOOD_RDS, ...EPHEMERAL, deletionProtection: false, skipFinalSnapshot: true },
    { ...GOOD_RDS, deletionProtection: false, skipFinalSnapshot: true, backupRetentionPeriod: 0 },
    [
      "deletionProtection must be true on a long-lived stack",
      "skipFinalSnapshot must be false on a long-lived stack",
      "backupRetentionPeriod must be at least 1 day",
    ],
  ],
  [
    "s3-no-force-destroy-unless-ephemeral",
    "aws:s3/bucket:Bucket",
    { ...EPHEMERAL, forceDestroy: true },
    { ...LONG_LIVED, forceDestroy: true },
    ["forceDestroy is only allowed on ephemeral stacks"],
  ],
  [
    "s3-block-public-access",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    { blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true },
    ["blockPublicPolicy must be true", "restrictPublicBuckets must be true"],
  ],
  [
    "msk-iam-and-tls",
    "aws:msk/cluster:Cluster",
    GOOD_MSK,
    {
      clientAuthentication: { unauthenticated: true },
      encryptionInfo: { encryptionInTransit: { clientBroker: "TLS_PLAINTEXT", inCluster: false } },
      brokerNodeGroupInfo: { connectivityInfo: { publicAccess: { type: "SERVICE_PROVIDED_EIPS" } } },
    },
    [
      "clientAuthentication.sasl.iam must be true",
      "unauthenticated access must be off",
      'encryptionInfo.encryptionInTransit.clientBroker must be "TLS"',
      "encryptionInfo.encryptionInTransit.inCluster must not be false",
      "brokers must not have public access",
    ],
  ],
  [
    "msk-iam-and-tls",
    "aws:msk/serverlessCluster:ServerlessCluster",
    { clientAuthentication: { sasl: { iam: { enabled: true } } } },
    { clientAuthentication: { sasl: { iam: { enabled: false } } } },
    ["clientAuthentication.sasl.iam.enabled must be true"],
  ],
  [
    "msk-no-auto-create-topics",
    "aws:msk/configuration:Configuration",
    { serverProperties: "auto.create.topics.enable=false\nmin.insync.replicas=2" },
    { serverProperties: "auto.create.topics.enable=true" },
    ["serverProperties must contain auto.create.topics.enable=false"],
  ],
  [
    "iam-least-privilege",
    "aws:iam/rolePolicy:RolePolicy",
    {
      policy: policyJson([
        { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
        { Effect: "Allow", Action: ["s3:PutObject"], Resource: ["arn:aws:s3:::b/cdc_data/*"] },
      ]),
    },
    {
      policy: policyJson([
        { Effect: "Allow", Action: ["s3:*"], Resource: ["arn:aws:s3:::b"] },
        { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "*" },
      ]),
    },
    ['action "s3:*" is a wildcard', 'resource "*" granted for secretsmanager:GetSecretValue'],
  ],
  [
    // A VPC Lambda's describe calls have no resource-level permissions; its interface calls do.
    "iam-least-privilege",
    "aws:iam/rolePolicy:RolePolicy",
    {
      policy: policyJson([
        {
          Effect: "Allow",
          Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
          Resource: ["*"],
        },
      ]),
    },
    {
      policy: policyJson([
        {
          Effect: "Allow",
          Action: ["ec2:DescribeSubnets", "ec2:CreateNetworkInterface"],
          Resource: ["*"],
        },
      ]),
    },
    ['resource "*" granted for ec2:CreateNetworkInterface'],
  ],
  [
    "no-ingress-from-anywhere",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    { cidrIpv4: "10.42.0.0/16", fromPort: 80, toPort: 80 },
    { cidrIpv4: "0.0.0.0/0", fromPort: 5432, toPort: 5432 },
    ["ingress from anywhere"],
  ],
  [
    "no-ingress-from-anywhere",
    "aws:ec2/securityGroup:SecurityGroup",
    { ingress: [{ cidrBlocks: ["10.0.0.0/8"] }] },
    { ingress: [{ ipv6CidrBlocks: ["::/0"] }] },
    ["inline ingress from anywhere"],
  ],
  [
    "lb-internal",
    "aws:lb/loadBalancer:LoadBalancer",
    { internal: true },
    { internal: false },
    ["internal must be true"],
  ],
  [
    "tasks-without-public-ip",
    "aws:scheduler/schedule:Schedule",
    { target: { ecsParameters: { networkConfiguration: { assignPublicIp: false } } } },
    { target: { ecsParameters: { networkConfiguration: { assignPublicIp: true } } } },
    ["assignPublicIp must be false"],
  ],
  [
    "tasks-without-public-ip",
    "aws:ecs/service:Service",
    { networkConfiguration: { assignPublicIp: false } },
    { networkConfiguration: { assignPublicIp: true } },
    ["assignPublicIp must be false"],
  ],
  [
    "log-retention-set",
    "aws:cloudwatch/logGroup:LogGroup",
    { retentionInDays: 14 },
    { name: "/x" },
    ["retentionInDays must be set"],
  ],
  [
    "connector-secrets-as-placeholders",
    "pulumi-nodejs:dynamic/connect:KafkaConnector",
    {
      config: {
        "database.password": "${secretsmanager:cdc-pipeline/dev/cdc_connector-AbCdEf:password}",
        "database.user": "cdc",
      },
    },
    { config: { "database.password": "hunter2" } },
    [
      "database.password must be a config-provider placeholder such as ${secretsmanager:<secret name>:password}",
    ],
  ],
  [
    "connector-secrets-as-placeholders",
    "pulumi-nodejs:dynamic/connect:KafkaConnector",
    { config: { "database.password": "${env:CDC_DB_PASSWORD}" } },
    // By ARN: Kafka's ConfigTransformer ends the path at the second colon.
    {
      config: {
        "database.password": "${secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:x:password}",
      },
    },
    [
      'database.password: Kafka Connect reads this placeholder as path "arn", key "aws:secretsmanager:eu-west-1:1:secret:x:password"; ' +
        "reference the secret by its name, not its ARN: ${secretsmanager:<secret name>:password}",
    ],
  ],
];

describe("resource policies", () => {
  it.each(RESOURCE_CASES)(
    "%s on %s passes a good resource and reports a bad one",
    async (name, type, good, bad, messages) => {
      expect(await violations(name, type, good)).toEqual([]);
      expect(await violations(name, type, bad)).toEqual(messages);
    },
  );

  it("ignores resources of other types", async () => {
    expect(await violations("rds-private", "aws:s3/bucket:Bucket", { publiclyAccessible: true })).toEqual([]);
  });

  it("has a test case for every resource policy", () => {
    expect(new Set(RESOURCE_CASES.map(([name]) => name))).toEqual(
      new Set(resourcePolicies.map((p) => p.name)),
    );
  });
});

// ---- stack policies ----

let counter = 0;
function resource(
  type: string,
  props: Record<string, unknown>,
  deps: Record<string, PolicyResource[]> = {},
  protect = false,
): PolicyResource {
  counter += 1;
  return {
    type,
    props,
    urn: `urn:pulumi:dev::cdc-pipeline::${type}::r${counter}`,
    name: `r${counter}`,
    opts: {
      protect,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    dependencies: Object.values(deps).flat(),
    propertyDependencies: deps,
    isType: () => false,
    asType: () => undefined,
  } as unknown as PolicyResource;
}

async function stackViolations(name: string, resources: PolicyResource[]): Promise<string[]> {
  const policy = stackPolicies.find((p) => p.name === name) as StackValidationPolicy;
  const found: string[] = [];
  await policy.validateStack({ resources, stackTags: new Map() } as never, (message) => found.push(message));
  return found;
}

const TLS_ONLY = policyJson([
  {
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  },
]);

function bucketStack(options: {
  tlsPolicy: string;
  versioned: boolean;
  ephemeral: boolean;
  guards: boolean;
}): PolicyResource[] {
  const bucket = resource(
    "aws:s3/bucket:Bucket",
    options.ephemeral ? EPHEMERAL : LONG_LIVED,
    {},
    !options.ephemeral,
  );
  const on = { bucket: [bucket] };
  return [
    bucket,
    ...(options.guards
      ? [
          resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", { blockPublicAcls: true }, on),
          resource(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            {},
            on,
          ),
        ]
      : []),
    resource("aws:s3/bucketPolicy:BucketPolicy", { policy: options.tlsPolicy }, on),
    ...(options.versioned
      ? [
          resource(
            "aws:s3/bucketVersioning:BucketVersioning",
            { versioningConfiguration: { status: "Enabled" } },
            on,
          ),
        ]
      : []),
  ];
}

describe("stack policies", () => {
  it("s3-bucket-guards: accepts a guarded bucket, and an unversioned one on an ephemeral stack", async () => {
    expect(
      await stackViolations(
        "s3-bucket-guards",
        bucketStack({ tlsPolicy: TLS_ONLY, versioned: true, ephemeral: false, guards: true }),
      ),
    ).toEqual([]);
    expect(
      await stackViolations(
        "s3-bucket-guards",
        bucketStack({ tlsPolicy: TLS_ONLY, versioned: false, ephemeral: true, guards: true }),
      ),
    ).toEqual([]);
  });

  it("s3-bucket-guards: reports each missing guard", async () => {
    const stack = bucketStack({
      tlsPolicy: policyJson([{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }]),
      versioned: false,
      ephemeral: false,
      guards: false,
    });
    const name = stack[0]?.name;
    expect(await stackViolations("s3-bucket-guards", stack)).toEqual([
      `bucket ${name} has no public access block`,
      `bucket ${name} has no server-side encryption configuration`,
      `bucket ${name} has no policy denying requests without TLS (aws:SecureTransport)`,
      `bucket ${name} must be versioned on a long-lived stack`,
    ]);
  });

  it("rds-logical-replication: requires the parameter on the instance's parameter group", async () => {
    const good = resource("aws:rds/parameterGroup:ParameterGroup", {
      parameters: [{ name: "rds.logical_replication", value: "1" }],
    });
    const bad = resource("aws:rds/parameterGroup:ParameterGroup", {
      parameters: [{ name: "rds.force_ssl", value: "1" }],
    });
    const withGood = resource("aws:rds/instance:Instance", {}, { parameterGroupName: [good] });
    const withBad = resource("aws:rds/instance:Instance", {}, { parameterGroupName: [bad] });
    expect(await stackViolations("rds-logical-replication", [good, withGood])).toEqual([]);
    expect(await stackViolations("rds-logical-replication", [bad, withBad])).toEqual([
      `RDS instance ${withBad.name} has no parameter group with rds.logical_replication=1`,
    ]);
  });

  it("protect-data-on-long-lived-stacks: requires protect unless the stack is tagged ephemeral", async () => {
    const slot = (protect: boolean) =>
      resource("postgresql:index/replicationSlot:ReplicationSlot", { name: "cdc_slot" }, {}, protect);
    const bucket = (protect: boolean, tags: Record<string, unknown>) =>
      resource("aws:s3/bucket:Bucket", tags, {}, protect);
    expect(
      await stackViolations("protect-data-on-long-lived-stacks", [bucket(true, LONG_LIVED), slot(true)]),
    ).toEqual([]);
    expect(
      await stackViolations("protect-data-on-long-lived-stacks", [bucket(false, EPHEMERAL), slot(false)]),
    ).toEqual([]);
    const unprotected = slot(false);
    expect(
      await stackViolations("protect-data-on-long-lived-stacks", [bucket(true, LONG_LIVED), unprotected]),
    ).toEqual([
      `postgresql:index/replicationSlot:ReplicationSlot ${unprotected.name} must be protected (protect: true) on a long-lived stack`,
    ]);
  });
});
